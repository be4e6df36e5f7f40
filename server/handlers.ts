import { once } from "node:events";
import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
} from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import type { ServerError } from "../src/server-error.js";
import { type CallSpan, incomingSpan, inSpan, TRACEPARENT } from "../src/trace-context.js";
import { checkClientBuild } from "./build-check.js";
import type { CallScopeOptions } from "./call-failure.js";
import { callSignal, toServiceError } from "./call-scope.js";
import type { MethodStats } from "./call-stats.js";
import type { LoopWatch } from "./loop-watch.js";
import type { NodeObserver } from "./observer.js";
import type { WorkerObjects } from "./workers/worker-objects.js";

/** Answers whatever build asks: it is how a client learns the node's version. */
const UNCHECKED = new Set(["/ferry.v1.Node/Info"]);

/** What every adapter needs from the node. */
export interface HandlerContext extends CallScopeOptions {
  /** Where every call is counted and timed, and calls in flight are kept. */
  observer: NodeObserver;
  /** Largest message the node sends; a session result over it fails its call, not the session. */
  maxMessageBytes: number;
  /** Where calls of objects exposed with run "workers" go. */
  workers: WorkerObjects;
  /** Times main-thread methods' turns on the event loop. */
  loopWatch: LoopWatch;
}

/**
 * Why a call may not start: the caller's build (unless `check` is off) or
 * the node's limit of calls in flight; counted as a refusal.
 */
function refusalOf(ctx: HandlerContext, metadata: Metadata, check = true): ServerError | undefined {
  const build = check ? checkClientBuild(metadata) : undefined;
  if (build) {
    ctx.observer.refused("build");
    return build;
  }
  const full = ctx.observer.inFlight.refusal();
  if (full) ctx.observer.refused("limit");
  return full;
}

/**
 * Adapts a promise-returning method to a grpc-js unary handler. Each call is
 * observed under its path's object and method, unless `observe` is "self":
 * then `fn` observes it (Invoke, whose object and method are in the request).
 */
export function unary<Req, Res>(
  ctx: HandlerContext,
  path: string,
  fn: (request: Req, signal: AbortSignal, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
  observe: "path" | "self" = "path",
): handleUnaryCall<Req, Res> {
  const check = !UNCHECKED.has(path);
  const stats = observe === "path" ? ctx.observer.pathStats(path) : undefined;
  const { observer } = ctx;
  return (call, callback) => {
    const refused = refusalOf(ctx, call.metadata, check);
    if (refused) {
      callback(toServiceError(refused, path, ctx));
      return;
    }
    const startedAt = performance.now();
    observer.inFlight.enter();
    const signal = callSignal(call);
    const span = stats ? incomingSpan(traceparentOf(call.metadata), stats.object, stats.method) : undefined;
    inSpan(span, () => fn(call.request, signal, call)).then(
      (response) => {
        observer.inFlight.leave();
        span?.end(Code.OK);
        if (stats) observer.ended(stats, Code.OK, startedAt, observer.listening ? call.getPeer() : "");
        callback(null, response);
      },
      (err: unknown) => {
        observer.inFlight.leave();
        const error = toServiceError(signal.aborted ? signal.reason : err, path, ctx);
        span?.end(error.code ?? Code.UNKNOWN, error.details);
        if (stats)
          observer.ended(
            stats,
            error.code ?? Code.UNKNOWN,
            startedAt,
            observer.listening ? call.getPeer() : "",
          );
        callback(error);
      },
    );
  };
}

/** Adapts an async generator to a grpc-js server-streaming handler, honouring backpressure. */
export function serverStream<Req, Res>(
  ctx: HandlerContext,
  path: string,
  fn: (request: Req, signal: AbortSignal) => AsyncIterable<Res>,
): handleServerStreamingCall<Req, Res> {
  const stats = ctx.observer.pathStats(path);
  return (call) => {
    const refused = refusalOf(ctx, call.metadata);
    if (refused) {
      call.emit("error", toServiceError(refused, path, ctx));
      return;
    }
    const signal = callSignal(call);
    const span = incomingSpan(traceparentOf(call.metadata), stats.object, stats.method);
    void inSpan(span, () => pump(ctx, path, stats, call, signal, fn(call.request, signal), span));
  };
}

/** Adapts an async generator over the request stream to a grpc-js bidirectional handler. */
export function bidiStream<Req, Res>(
  ctx: HandlerContext,
  path: string,
  fn: (requests: AsyncIterable<Req>, signal: AbortSignal) => AsyncIterable<Res>,
): handleBidiStreamingCall<Req, Res> {
  const stats = ctx.observer.pathStats(path);
  return (call) => {
    const refused = refusalOf(ctx, call.metadata);
    if (refused) {
      call.emit("error", toServiceError(refused, path, ctx));
      return;
    }
    const signal = callSignal(call);
    // Iterating a stream destroys it when the loop ends by default; on a duplex
    // call that would also close the response side before results are written.
    const requests = call.iterator({ destroyOnReturn: false }) as AsyncIterable<Req>;
    const span = incomingSpan(traceparentOf(call.metadata), stats.object, stats.method);
    void inSpan(span, () => pump(ctx, path, stats, call, signal, fn(requests, signal), span));
  };
}

async function pump<Res>(
  ctx: HandlerContext,
  path: string,
  stats: MethodStats,
  call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>,
  signal: AbortSignal,
  responses: AsyncIterable<Res>,
  span: CallSpan | undefined,
): Promise<void> {
  const { observer } = ctx;
  const startedAt = performance.now();
  let code: number = Code.OK;
  observer.inFlight.enter();
  try {
    for await (const response of responses) {
      if (signal.aborted) break;
      if (!call.write(response)) await Promise.race([once(call, "drain"), once(signal, "abort")]);
    }
    if (!signal.aborted) call.end();
  } catch (err) {
    if (!signal.aborted) {
      const error = toServiceError(err, path, ctx);
      code = error.code ?? Code.UNKNOWN;
      call.emit("error", error);
    }
  } finally {
    observer.inFlight.leave();
    if (signal.aborted) code = (signal.reason as { code?: number } | undefined)?.code ?? Code.CANCELLED;
    span?.end(code);
    observer.ended(stats, code, startedAt, call.getPeer());
  }
}

/** The W3C traceparent header a gRPC call carries, if any. */
export function traceparentOf(metadata: Metadata): string | undefined {
  const value = metadata.get(TRACEPARENT)[0];
  return typeof value === "string" ? value : undefined;
}
