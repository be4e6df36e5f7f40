import { once } from "node:events";
import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
} from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import { checkClientBuild } from "./build-check.js";
import type { CallScopeOptions } from "./call-failure.js";
import { callSignal, toServiceError } from "./call-scope.js";
import type { LoopWatch } from "./loop-watch.js";
import type { WorkerObjects } from "./workers/worker-objects.js";

/** Answers whatever build asks: it is how a client learns the node's version. */
const UNCHECKED = new Set(["/ferry.v1.Node/Info"]);

/** Counts calls being served, for Node.Info, graceful shutdown and the node's limit. */
export class InFlight {
  #count = 0;
  /** Most calls the node serves at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly limit: number;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  /** The refusal for one call more than the limit allows, or undefined while there is room. */
  refusal(): ServerError | undefined {
    if (this.#count < this.limit) return undefined;
    return new ServerError(
      Code.RESOURCE_EXHAUSTED,
      `node has ${this.limit} calls running, its limit (maxCallsInFlight); retry later or on another node`,
    );
  }

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    this.#count--;
  }
}

/** What every adapter needs from the node. */
export interface HandlerContext extends CallScopeOptions {
  inFlight: InFlight;
  /** Largest message the node sends; a session result over it fails its call, not the session. */
  maxMessageBytes: number;
  /** Where calls of objects exposed with run "workers" go. */
  workers: WorkerObjects;
  /** Times main-thread methods' turns on the event loop. */
  loopWatch: LoopWatch;
}

/** Adapts a promise-returning method to a grpc-js unary handler. */
export function unary<Req, Res>(
  ctx: HandlerContext,
  path: string,
  fn: (request: Req, signal: AbortSignal, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const check = !UNCHECKED.has(path);
  return (call, callback) => {
    const refused = (check ? checkClientBuild(call.metadata) : undefined) ?? ctx.inFlight.refusal();
    if (refused) {
      callback(toServiceError(refused, path, ctx));
      return;
    }
    ctx.inFlight.enter();
    const signal = callSignal(call);
    fn(call.request, signal, call).then(
      (response) => {
        ctx.inFlight.leave();
        callback(null, response);
      },
      (err: unknown) => {
        ctx.inFlight.leave();
        callback(toServiceError(signal.aborted ? signal.reason : err, path, ctx));
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
  return (call) => {
    const refused = checkClientBuild(call.metadata) ?? ctx.inFlight.refusal();
    if (refused) {
      call.emit("error", toServiceError(refused, path, ctx));
      return;
    }
    const signal = callSignal(call);
    void pump(ctx, path, call, signal, fn(call.request, signal));
  };
}

/** Adapts an async generator over the request stream to a grpc-js bidirectional handler. */
export function bidiStream<Req, Res>(
  ctx: HandlerContext,
  path: string,
  fn: (requests: AsyncIterable<Req>, signal: AbortSignal) => AsyncIterable<Res>,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const refused = checkClientBuild(call.metadata) ?? ctx.inFlight.refusal();
    if (refused) {
      call.emit("error", toServiceError(refused, path, ctx));
      return;
    }
    const signal = callSignal(call);
    // Iterating a stream destroys it when the loop ends by default; on a duplex
    // call that would also close the response side before results are written.
    const requests = call.iterator({ destroyOnReturn: false }) as AsyncIterable<Req>;
    void pump(ctx, path, call, signal, fn(requests, signal));
  };
}

async function pump<Res>(
  ctx: HandlerContext,
  path: string,
  call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>,
  signal: AbortSignal,
  responses: AsyncIterable<Res>,
): Promise<void> {
  ctx.inFlight.enter();
  try {
    for await (const response of responses) {
      if (signal.aborted) break;
      if (!call.write(response)) await Promise.race([once(call, "drain"), once(signal, "abort")]);
    }
    if (!signal.aborted) call.end();
  } catch (err) {
    if (!signal.aborted) call.emit("error", toServiceError(err, path, ctx));
  } finally {
    ctx.inFlight.leave();
  }
}
