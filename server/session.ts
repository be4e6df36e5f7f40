import { randomUUID } from "node:crypto";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import type {
  Call,
  CallError,
  ServerMessage,
  SessionRequest,
  SessionResponse,
} from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import { fromValue, toValue } from "../src/value-codec.js";
import { VALUE_LIMITS } from "../src/value-limits.js";
import { describeFailure, toServiceError } from "./call-scope.js";
import { Cancellation } from "./cancellation.js";
import { dispatch } from "./dispatch.js";
import type { HandlerContext } from "./handlers.js";
import { type ObjectHost, SessionObjects } from "./object-host.js";
import { SessionRefs } from "./session-refs.js";

/** Limits of one client session. */
export interface SessionLimits {
  /** Calls running at once in one session; past it a call fails with RESOURCE_EXHAUSTED. */
  maxCallsInFlight: number;
  /** Deadline of a call that sets none, in milliseconds. */
  defaultTimeoutMs: number;
  /** Longest deadline a call may ask for, in milliseconds. */
  maxTimeoutMs: number;
  /** Objects a session may hold by reference for its client; past it, RESOURCE_EXHAUSTED. */
  maxObjects: number;
}

/** Default session limits. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxCallsInFlight: 10_000,
  defaultTimeoutMs: 30_000,
  maxTimeoutMs: 3_600_000,
  maxObjects: 100_000,
};

const PATH = "/ferry.v1.Objects/Session";

/** Most messages in one frame (see the client's FRAME_MESSAGES): frames stay far below the message size limit. */
const FRAME_MESSAGES = 512;

/**
 * The node's side of one client session: calls arrive in frames, run
 * concurrently, and their results, stream items and stream ends go back
 * batched, everything ready in one turn of the event loop in one frame.
 * Session-mode objects live as long as the stream; when it ends, however it
 * ends, every running call is cancelled and the objects are dropped.
 */
export class ServerSession {
  readonly #call: ServerDuplexStream<SessionRequest, SessionResponse>;
  readonly #host: ObjectHost;
  readonly #ctx: HandlerContext;
  readonly #limits: SessionLimits;
  readonly #objects = new SessionObjects(randomUUID());
  readonly #running = new Map<bigint, Cancellation>();
  readonly #refs: SessionRefs;
  #outbox: ServerMessage[] = [];
  #flushing = false;
  #inputDone = false;
  #draining = false;
  #closed = false;
  #drain: Promise<void> | undefined;
  #peer = "";
  #onClose: (() => void) | undefined;

  constructor(
    call: ServerDuplexStream<SessionRequest, SessionResponse>,
    host: ObjectHost,
    ctx: HandlerContext,
    limits: SessionLimits,
  ) {
    this.#call = call;
    this.#host = host;
    this.#ctx = ctx;
    this.#limits = limits;
    this.#refs = new SessionRefs(host, (message) => this.#send(message), limits.maxObjects);
  }

  /**
   * The node is stopping: refuse new calls with UNAVAILABLE, let running ones
   * answer, then end the stream, so shutdown need not wait for idle clients.
   */
  drain(): void {
    this.#draining = true;
    this.#inputDone = true;
    this.#maybeFinish();
  }

  /** Starts serving; `onClose` runs once when the session ends. */
  start(onClose?: () => void): void {
    this.#onClose = onClose;
    this.#peer = this.#call.getPeer();
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
      else if (message.cancel) this.#running.get(message.cancel.id)?.abort(cancelled());
      else if (message.release) {
        for (const id of message.release.refIds) this.#objects.instances.delete(id);
        this.#refs.release(message.release.refIds);
      } else if (message.callbackResult) this.#refs.answer(message.callbackResult);
      else {
        this.#fail(new ServerError(Code.INVALID_ARGUMENT, "session frame holds a message of no known kind"));
        return;
      }
    }
  }

  #onCall(call: Call): void {
    const { id } = call;
    if (this.#running.has(id)) {
      this.#fail(new ServerError(Code.INVALID_ARGUMENT, `call id ${id} is already running in this session`));
      return;
    }
    const cancellation = new Cancellation();
    const timeoutMs = call.timeoutMs === 0 ? this.#limits.defaultTimeoutMs : call.timeoutMs;
    const timer = setTimeout(
      () => cancellation.abort(new ServerError(Code.DEADLINE_EXCEEDED, "deadline exceeded")),
      Math.min(timeoutMs, this.#limits.maxTimeoutMs),
    );
    this.#running.set(id, cancellation);
    this.#ctx.inFlight.enter();
    const done = () => {
      this.#ctx.inFlight.leave();
      clearTimeout(timer);
      this.#running.delete(id);
      this.#maybeFinish();
    };
    const path = `${call.object ?? call.refId}.${call.method}`;
    try {
      if (this.#draining) {
        throw new ServerError(Code.UNAVAILABLE, "node is shutting down; call another node");
      }
      if (this.#running.size > this.#limits.maxCallsInFlight) {
        throw new ServerError(
          Code.RESOURCE_EXHAUSTED,
          `session has ${this.#limits.maxCallsInFlight} calls running, its limit; wait for some to finish`,
        );
      }
      if (call.object === undefined && call.refId === undefined) {
        throw new ServerError(Code.INVALID_ARGUMENT, "call names neither an object nor a ref_id", {
          field: "object",
        });
      }
      if (call.args.length > VALUE_LIMITS.maxArgs) {
        throw new ServerError(Code.INVALID_ARGUMENT, `args: at most ${VALUE_LIMITS.maxArgs} arguments`, {
          field: "args",
        });
      }
      const resolved =
        call.object !== undefined
          ? this.#host.resolve(call.object, call.method, this.#objects)
          : this.#refs.resolve(call.refId as string, call.method);
      const args = call.args.map((a, i) => fromValue(a, `args[${i}]`, this.#refs));
      const context = {
        get signal() {
          return cancellation.signal;
        },
        deadline: Date.now() + timeoutMs,
        sessionId: this.#objects.id,
        peer: this.#peer,
      };
      const outcome = dispatch(resolved, args, context);
      if (resolved.method.oneway && outcome.kind === "value") {
        // Declared oneway: the caller is told at once; failures are only logged.
        if (!call.oneway) this.#send({ result: { id, value: { nullValue: 0 } } });
        outcome.value.catch((err: unknown) => describeFailure(err, path, this.#ctx)).finally(done);
        return;
      }
      if (outcome.kind === "value") {
        outcome.value
          .then(
            (value) => {
              if (!call.oneway) this.#send({ result: { id, value: toValue(value, "result", this.#refs) } });
            },
            (err: unknown) => this.#answerError(call, path, cancellation.aborted ? cancellation.reason : err),
          )
          .catch((err: unknown) => this.#answerError(call, path, err))
          .finally(done);
      } else {
        void this.#stream(call, path, outcome.items, cancellation).finally(done);
      }
    } catch (err) {
      this.#answerError(call, path, err);
      done();
    }
  }

  async #stream(
    call: Call,
    path: string,
    items: AsyncIterable<unknown>,
    signal: Cancellation,
  ): Promise<void> {
    try {
      for await (const item of items) {
        if (signal.aborted) break;
        this.#send({ item: { id: call.id, value: toValue(item, "item", this.#refs) } });
        if (this.#drain) await this.#drain;
      }
      if (signal.aborted) throw signal.reason;
      this.#send({ end: { id: call.id, error: undefined } });
    } catch (err) {
      this.#send({ end: { id: call.id, error: this.#callError(path, err) } });
    }
  }

  #answerError(call: Call, path: string, err: unknown): void {
    const error = this.#callError(path, err);
    if (call.oneway) return;
    this.#send({ result: { id: call.id, error } });
  }

  #callError(path: string, err: unknown): CallError {
    const failure = describeFailure(err, path, this.#ctx);
    return { code: failure.code, message: failure.message, detail: failure.detail };
  }

  /** Queues a message; everything queued in this turn of the event loop leaves as one frame. */
  #send(message: ServerMessage): void {
    if (this.#closed) return;
    this.#outbox.push(message);
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#closed || this.#outbox.length === 0) return;
    const messages = this.#outbox;
    this.#outbox = [];
    let writable = true;
    for (let i = 0; i < messages.length; i += FRAME_MESSAGES) {
      writable = this.#call.write({ messages: messages.slice(i, i + FRAME_MESSAGES) });
    }
    if (!writable && !this.#drain) {
      this.#drain = new Promise((resolve) =>
        this.#call.once("drain", () => {
          this.#drain = undefined;
          resolve();
        }),
      );
    }
    this.#maybeFinish();
  }

  /** After the client half-closes, the session ends once every call has answered. */
  #maybeFinish(): void {
    if (
      this.#inputDone &&
      !this.#closed &&
      this.#running.size === 0 &&
      this.#outbox.length === 0 &&
      !this.#flushing
    ) {
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
    for (const cancellation of this.#running.values()) cancellation.abort(cancelled("the session ended"));
    this.#running.clear();
    this.#objects.instances.clear();
    this.#refs.close();
    this.#outbox = [];
  }
}

function cancelled(why = "call was cancelled by the caller"): ServerError {
  return new ServerError(Code.CANCELLED, why);
}
