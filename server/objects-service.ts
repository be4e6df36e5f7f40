import type {
  handleBidiStreamingCall,
  ServerDuplexStream,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";
import { Code } from "../src/code.js";
import {
  type DescribeRequest,
  type DescribeResponse,
  type InvokeRequest,
  type InvokeResponse,
  type ObjectsServer,
  ServerMessage,
  type SessionRequest,
} from "../src/gen/ferry/v1/objects.js";
import { type CallSpan, incomingSpan, inSpan } from "../src/trace-context.js";
import { toValue } from "../src/value-codec.js";
import { PROTOCOL_VERSION } from "../src/version.js";
import { collect, THROUGH_A_SESSION } from "./batch.js";
import { checkClientBuild } from "./build-check.js";
import { failureCode, logFailure } from "./call-failure.js";
import { toServiceError } from "./call-scope.js";
import { type HandlerContext, traceparentOf, unary } from "./handlers.js";
import type { ObjectHost, ResolvedCall } from "./object-host.js";
import { ServerSession } from "./session.js";
import type { SessionLimits } from "./session-limits.js";
import { startCall } from "./start-call.js";

function deadlineOf(call: { getDeadline(): Date | number }): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Date.now() + DEFAULT_TIMEOUT_MS;
}

/** ferry.v1.Objects as a node serves it: Session answers with frames packed already (src/session-wire.ts). */
export interface ObjectsHandlers extends UntypedServiceImplementation {
  invoke: ObjectsServer["invoke"];
  describe: ObjectsServer["describe"];
  session: handleBidiStreamingCall<SessionRequest, Buffer>;
}

/** gRPC handlers of ferry.v1.Objects over a node's object host; `sessions` tracks the live ones. */
export function objectsServer(
  ctx: HandlerContext,
  host: ObjectHost,
  limits: SessionLimits,
  sessions: Set<ServerSession>,
): ObjectsHandlers {
  const { observer } = ctx;
  /** Runs a resolved Invoke: here or in a worker, a stream collected into one answer. */
  const invoke = async (
    req: InvokeRequest,
    resolved: ResolvedCall,
    signal: AbortSignal,
    call: { getDeadline(): Date | number; getPeer(): string },
    traceparent: string | undefined,
  ): Promise<InvokeResponse> => {
    const label = `${req.object}.${req.method}`;
    const context = {
      signal,
      deadline: deadlineOf(call),
      sessionId: undefined,
      peer: call.getPeer(),
      traceparent,
    };
    const started = startCall(resolved, req.args, label, context, ctx, undefined, {
      id: 0n,
      streams: "collect",
    });
    if (resolved.method.oneway && started.kind !== "stream") {
      // Declared oneway: answer at once; a failure is only logged.
      void logFailure(started.value, label, ctx);
      return { result: { nullValue: 0 } };
    }
    if (started.kind === "encoded")
      return { result: ServerMessage.decode(await started.value).result?.value };
    if (started.kind === "value") return { result: toValue(await started.value, "result") };
    return { result: toValue(await collect(started.items, label, THROUGH_A_SESSION), "result") };
  };
  return {
    invoke: unary(
      ctx,
      "/ferry.v1.Objects/Invoke",
      async (req: InvokeRequest, signal, call): Promise<InvokeResponse> => {
        const startedAt = performance.now();
        let stats = observer.unknown;
        let span: CallSpan | undefined;
        const traceparent = traceparentOf(call.metadata);
        try {
          const resolved = host.resolve(req.object, req.method, undefined);
          stats = observer.stats(resolved.method, req.object, req.method);
          span = incomingSpan(traceparent, stats.object, stats.method);
          const answer = await inSpan(span, () => invoke(req, resolved, signal, call, traceparent));
          span?.end(Code.OK);
          observer.ended(stats, Code.OK, startedAt);
          return answer;
        } catch (err) {
          const code = failureCode(signal.aborted ? signal.reason : err);
          span?.end(code);
          observer.ended(stats, code, startedAt);
          throw err;
        }
      },
      "self",
    ),
    describe: unary(
      ctx,
      "/ferry.v1.Objects/Describe",
      async (req: DescribeRequest): Promise<DescribeResponse> => {
        return { objects: host.describe(req.object), protocol: PROTOCOL_VERSION };
      },
    ),
    session: (call: ServerDuplexStream<SessionRequest, Buffer>) => {
      const refused = checkClientBuild(call.metadata);
      if (refused) {
        observer.refused("build");
        call.emit("error", toServiceError(refused, "/ferry.v1.Objects/Session", ctx));
        return;
      }
      const session = new ServerSession(call, host, ctx, limits);
      sessions.add(session);
      observer.sessions++;
      observer.sessionsOpened++;
      session.start(() => {
        sessions.delete(session);
        observer.sessions--;
      });
    },
  };
}
