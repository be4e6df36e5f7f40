import type { ServerDuplexStream } from "@grpc/grpc-js";
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
  type SessionResponse,
} from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import { fromValue, toValue } from "../src/value-codec.js";
import { VALUE_LIMITS } from "../src/value-limits.js";
import { PROTOCOL_VERSION } from "../src/version.js";
import { collect, THROUGH_A_SESSION } from "./batch.js";
import { checkClientBuild } from "./build-check.js";
import { describeFailure } from "./call-failure.js";
import { toServiceError } from "./call-scope.js";
import { dispatch } from "./dispatch.js";
import { type HandlerContext, unary } from "./handlers.js";
import type { ObjectHost } from "./object-host.js";
import { ServerSession } from "./session.js";
import type { SessionLimits } from "./session-limits.js";
import { workerArgRefs } from "./workers/worker-objects.js";

function deadlineOf(call: { getDeadline(): Date | number }): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Date.now() + DEFAULT_TIMEOUT_MS;
}

/** gRPC handlers of ferry.v1.Objects over a node's object host; `sessions` tracks the live ones. */
export function objectsServer(
  ctx: HandlerContext,
  host: ObjectHost,
  limits: SessionLimits,
  sessions: Set<ServerSession>,
): ObjectsServer {
  return {
    invoke: unary(
      ctx,
      "/ferry.v1.Objects/Invoke",
      async (req: InvokeRequest, signal, call): Promise<InvokeResponse> => {
        if (req.args.length > VALUE_LIMITS.maxArgs) {
          throw new ServerError(
            Code.INVALID_ARGUMENT,
            `args: at most ${VALUE_LIMITS.maxArgs} arguments, got ${req.args.length}`,
            {
              field: "args",
            },
          );
        }
        const resolved = host.resolve(req.object, req.method, undefined);
        const label = `${req.object}.${req.method}`;
        const refs = resolved.where === "workers" ? workerArgRefs(label) : undefined;
        const args = req.args.map((a, i) => fromValue(a, () => `args[${i}]`, refs));
        const context = { signal, deadline: deadlineOf(call), sessionId: undefined, peer: call.getPeer() };
        if (resolved.where === "workers") {
          const answer = ctx.workers.call(
            resolved,
            args,
            context,
            0n,
            resolved.method.stream ? "collect" : "result",
          );
          if (resolved.method.oneway) {
            answer.catch((err: unknown) => describeFailure(err, label, ctx));
            return { result: { nullValue: 0 } };
          }
          return { result: ServerMessage.decode(await answer).result?.value };
        }
        const outcome = dispatch(resolved, args, context, ctx.loopWatch);
        if (resolved.method.oneway && outcome.kind === "value") {
          // Declared oneway: answer at once; a failure is only logged.
          outcome.value.catch((err: unknown) => describeFailure(err, label, ctx));
          return { result: { nullValue: 0 } };
        }
        if (outcome.kind === "value") return { result: toValue(await outcome.value, "result") };
        return { result: toValue(await collect(outcome.items, label, THROUGH_A_SESSION), "result") };
      },
    ),
    describe: unary(
      ctx,
      "/ferry.v1.Objects/Describe",
      async (req: DescribeRequest): Promise<DescribeResponse> => {
        return { objects: host.describe(req.object), protocol: PROTOCOL_VERSION };
      },
    ),
    session: (call: ServerDuplexStream<SessionRequest, SessionResponse>) => {
      const refused = checkClientBuild(call.metadata);
      if (refused) {
        call.emit("error", toServiceError(refused, "/ferry.v1.Objects/Session", ctx));
        return;
      }
      const session = new ServerSession(call, host, ctx, limits);
      sessions.add(session);
      session.start(() => sessions.delete(session));
    },
  };
}
