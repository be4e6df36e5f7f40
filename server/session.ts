import { randomUUID } from "node:crypto";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import type { Batch, Call, CallError, ServerMessage, SessionRequest } from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import { type CallSpan, incomingSpan, inSpan } from "../src/trace-context.js";
import { toValue } from "../src/value-codec.js";
import { describeFailure, logFailure } from "./call-failure.js";
import { toServiceError } from "./call-scope.js";
import type { MethodStats } from "./call-stats.js";
import type { Cancellation } from "./cancellation.js";
import type { HandlerContext } from "./handlers.js";
import type { ObjectHost, ResolvedCall, SessionObjects } from "./object-host.js";
import { runSessionBatch } from "./session-batch.js";
import { type AdmittedCall, SessionCalls } from "./session-calls.js";
import type { SessionLimits } from "./session-limits.js";
import { EncodedMessage, SessionOutbox } from "./session-outbox.js";
import { SessionRefs } from "./session-refs.js";
import { SessionStreams } from "./session-streams.js";
import { type Started, startCall } from "./start-call.js";

const PATH = "/ferry.v1.Objects/Session";

/**
 * The node's side of one client session: calls arrive in frames, run
 * concurrently, and their results, stream items and stream ends go back
 * batched, everything ready in one turn of the event loop in one frame.
 * Session-mode objects live as long as the stream; when it ends, however it
 * ends, every running call is cancelled and the objects are dropped.
 */
export class ServerSession {
  readonly #call: ServerDuplexStream<SessionRequest, Buffer>;
  readonly #host: ObjectHost;
  readonly #ctx: HandlerContext;
  readonly #objects: SessionObjects;
  readonly #calls: SessionCalls;
  readonly #refs: SessionRefs;
  readonly #outbox: SessionOutbox;
  readonly #streams: SessionStreams;
  #inputDone = false;
  #closed = false;
  #onClose: (() => void) | undefined;

  constructor(
    call: ServerDuplexStream<SessionRequest, Buffer>,
    host: ObjectHost,
    ctx: HandlerContext,
    limits: SessionLimits,
  ) {
    this.#call = call;
    this.#host = host;
    this.#ctx = ctx;
    this.#objects = host.sessionObjects(randomUUID());
    this.#calls = new SessionCalls(ctx, limits, this.#objects.id, () => this.#maybeFinish());
    this.#outbox = new SessionOutbox(call, ctx.maxMessageBytes, () => this.#maybeFinish());
    this.#refs = new SessionRefs(host, (message) => this.#send(message), limits.maxObjects);
    this.#streams = new SessionStreams({
      outbox: this.#outbox,
      closed: () => this.#closed,
      item: (id, value) => ({ item: { id, value: toValue(value, "item", this.#refs) } }),
      callError: (path, err) => this.#callError(path, err),
    });
  }

  /** Objects the node holds for this session: session-mode instances and objects handed out by reference. */
  get held(): number {
    return this.#objects.size + this.#refs.size;
  }

  /**
   * The node is stopping: refuse new calls with UNAVAILABLE, let running ones
   * answer, then end the stream, so shutdown need not wait for idle clients.
   */
  drain(): void {
    this.#calls.draining = true;
    this.#inputDone = true;
    this.#maybeFinish();
  }

  /** Starts serving; `onClose` runs once when the session ends. */
  start(onClose?: () => void): void {
    this.#onClose = onClose;
    this.#calls.peer = this.#call.getPeer();
    this.#call.on("data", (frame: SessionRequest) => this.#onFrame(frame));
    this.#call.on("end", () => {
      this.#inputDone = true;
      this.#maybeFinish();
    });
    this.#call.on("cancelled", () => this.#close());
    this.#call.on("error", () => this.#close());
    this.#call.on("close", () => this.#close());
  }

  #onFrame(frame: SessionRequest): void {
    for (const message of frame.messages) {
      if (this.#closed) return;
      if (message.call) this.#onCall(message.call);
      else if (message.batch) this.#onBatch(message.batch);
      else if (message.cancel) this.#calls.cancel(message.cancel.id, cancelled());
      else if (message.more) this.#streams.more(message.more.id, message.more.items);
      else if (message.release) {
        for (const id of message.release.refIds) this.#objects.drop(id);
        this.#refs.release(message.release.refIds);
      } else if (message.callbackResult) this.#refs.answer(message.callbackResult);
      else {
        this.#fail(new ServerError(Code.INVALID_ARGUMENT, "session frame holds a message of no known kind"));
        return;
      }
    }
  }

  /** Lets call `id` in (see {@link SessionCalls.admit}); a duplicate id fails the session. */
  #admit(id: bigint, requestedTimeoutMs: number, traceparent: string): AdmittedCall | undefined {
    if (this.#calls.has(id)) {
      this.#fail(new ServerError(Code.INVALID_ARGUMENT, `call id ${id} is already running in this session`));
      return undefined;
    }
    return this.#calls.admit(id, requestedTimeoutMs, traceparent);
  }

  /** Finds the method a call or batch names, by exposed name or by reference. */
  #resolve(
    target: { object?: string | undefined; refId?: string | undefined },
    method: string,
  ): ResolvedCall {
    if (target.object === undefined && target.refId === undefined) {
      throw new ServerError(Code.INVALID_ARGUMENT, "call names neither an object nor a ref_id", {
        field: "object",
      });
    }
    return target.object !== undefined
      ? this.#host.resolve(target.object, method, this.#objects)
      : this.#refs.resolve(target.refId as string, method);
  }

  #onCall(call: Call): void {
    const { id } = call;
    const admitted = this.#admit(id, call.timeoutMs, call.traceparent);
    if (!admitted) return;
    const { cancellation, context, done, refusal, startedAt } = admitted;
    const path = `${call.object ?? call.refId}.${call.method}`;
    const { observer } = this.#ctx;
    let stats = observer.unknown;
    let span: CallSpan | undefined;
    const finish = (code: number) => {
      span?.end(code);
      observer.ended(stats, code, startedAt, this.#calls.peer);
      done();
    };
    try {
      if (refusal) {
        this.#answerError(call, path, refusal);
        done();
        return;
      }
      const resolved = this.#resolve(call, call.method);
      stats = this.#statsOf(resolved, call);
      span = incomingSpan(call.traceparent, stats.object, stats.method);
      const started = inSpan(span, () =>
        startCall(resolved, call.args, path, context, this.#ctx, this.#refs, { id, streams: "items" }),
      );
      this.#answer(call, path, started, resolved.method.oneway, cancellation, finish);
    } catch (err) {
      finish(this.#answerError(call, path, err));
    }
  }

  /**
   * The stats a resolved call counts under: an object held by reference
   * counts under its class's name, not its id, so ids make no series.
   */
  #statsOf(resolved: ResolvedCall, target: { object?: string | undefined; method: string }): MethodStats {
    const { observer } = this.#ctx;
    const cached = observer.cached(resolved.method);
    if (cached) return cached;
    const object =
      target.object !== undefined
        ? resolved.object
        : resolved.object.slice(0, resolved.object.lastIndexOf(" "));
    return observer.stats(resolved.method, object, target.method);
  }

  /**
   * Answers a started call: its result, its stream, or (oneway) at once, its
   * failure only logged; `finish` hears the code it ended with.
   */
  #answer(
    call: Call,
    path: string,
    started: Started,
    oneway: boolean,
    cancellation: Cancellation,
    finish: (code: number) => void,
  ): void {
    if (started.kind === "stream") {
      void this.#streams.send(call, path, started.items, cancellation).then(finish);
      return;
    }
    const { id } = call;
    const value: Promise<unknown> = started.value;
    if (oneway) {
      if (!call.oneway) this.#send({ result: { id, value: { nullValue: 0 } } });
      void logFailure(value, path, this.#ctx).then(finish);
      return;
    }
    value
      .then(
        (result) => {
          if (call.oneway) return Code.OK;
          this.#send(
            started.kind === "encoded"
              ? new EncodedMessage(result as Uint8Array, id, "result")
              : { result: { id, value: toValue(result, "result", this.#refs) } },
          );
          return Code.OK;
        },
        (err: unknown) => this.#answerError(call, path, cancellation.aborted ? cancellation.reason : err),
      )
      .catch((err: unknown) => this.#answerError(call, path, err))
      .then(finish);
  }

  /** Runs a batch's entries and answers them (see ferry.v1.Batch and session-batch.ts). */
  #onBatch(batch: Batch): void {
    const admitted = this.#admit(batch.id, batch.timeoutMs, batch.traceparent);
    if (!admitted) return;
    runSessionBatch(batch, admitted, {
      ctx: this.#ctx,
      refs: this.#refs,
      peer: () => this.#calls.peer,
      resolve: () => this.#resolve(batch, batch.method),
      statsOf: (resolved) => this.#statsOf(resolved, batch),
      isPerCall: (object) => this.#host.isPerCall(object),
      callError: (path, err) => this.#callError(path, err),
      send: (message) => this.#send(message),
    });
  }

  /** Answers a failed call (a oneway one only counts it); returns its code. */
  #answerError(call: Call, path: string, err: unknown): number {
    const error = this.#callError(path, err);
    if (!call.oneway) this.#send({ result: { id: call.id, error } });
    return error.code;
  }

  #callError(path: string, err: unknown): CallError {
    return describeFailure(err, path, this.#ctx);
  }

  /** Queues a message; everything queued in this turn of the event loop leaves as one frame. */
  #send(message: ServerMessage | EncodedMessage): void {
    if (!this.#closed) this.#outbox.send(message);
  }

  /** After the client half-closes, the session ends once every call has answered. */
  #maybeFinish(): void {
    if (this.#inputDone && !this.#closed && this.#calls.size === 0 && this.#outbox.empty) {
      this.#call.end();
      this.#close();
    }
  }

  #fail(err: ServerError): void {
    if (this.#closed) return;
    this.#call.emit("error", toServiceError(err, PATH, this.#ctx));
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
    this.#calls.cancelAll(cancelled("the session ended"));
    this.#objects.clear();
    this.#refs.close();
    this.#streams.clear();
    // Streams waiting for the connection see the session closed and end.
    this.#outbox.close();
  }
}

function cancelled(why = "call was cancelled by the caller"): ServerError {
  return new ServerError(Code.CANCELLED, why);
}
