import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import type { CallContext } from "./call-context.js";
import { Cancellation } from "./cancellation.js";
import type { HandlerContext } from "./handlers.js";
import type { SessionLimits } from "./session-limits.js";

/** A call let into a session: its cancellation and context, and `done` to run once it has answered. */
export interface AdmittedCall {
  cancellation: Cancellation;
  context: CallContext;
  done: () => void;
  /** Set when the call must be answered with this error instead of running. */
  refusal?: ServerError;
  /** When it arrived (performance.now()). */
  startedAt: number;
}

/**
 * The calls running in one session, each with its deadline timer and its
 * place in the node's count of calls in flight; and the rules that refuse
 * one more (a node shutting down, the session's or the node's limit).
 */
export class SessionCalls {
  readonly #running = new Map<bigint, Cancellation>();
  readonly #ctx: HandlerContext;
  readonly #limits: SessionLimits;
  readonly #sessionId: string;
  readonly #onDone: () => void;
  /** The caller's address, for each call's context. */
  peer = "";
  /** The node is stopping: calls are refused with UNAVAILABLE. */
  draining = false;

  /** `onDone` runs after each call has answered. */
  constructor(ctx: HandlerContext, limits: SessionLimits, sessionId: string, onDone: () => void) {
    this.#ctx = ctx;
    this.#limits = limits;
    this.#sessionId = sessionId;
    this.#onDone = onDone;
  }

  get size(): number {
    return this.#running.size;
  }

  has(id: bigint): boolean {
    return this.#running.has(id);
  }

  /** Registers call `id` (not running already) with its deadline. */
  admit(id: bigint, requestedTimeoutMs: number, traceparent: string): AdmittedCall {
    const cancellation = new Cancellation();
    const timeoutMs = Math.min(
      requestedTimeoutMs === 0 ? this.#limits.defaultTimeoutMs : requestedTimeoutMs,
      this.#limits.maxTimeoutMs,
    );
    const timer = setTimeout(
      () => cancellation.abort(new ServerError(Code.DEADLINE_EXCEEDED, "deadline exceeded")),
      timeoutMs,
    );
    // Checked before it counts, by the same rule as a unary call's (InFlight.refusal).
    const refusal = this.#refusal();
    this.#running.set(id, cancellation);
    this.#ctx.observer.inFlight.enter();
    const done = () => {
      this.#ctx.observer.inFlight.leave();
      clearTimeout(timer);
      this.#running.delete(id);
      this.#onDone();
    };
    const context: CallContext = {
      get signal() {
        return cancellation.signal;
      },
      deadline: Date.now() + timeoutMs,
      sessionId: this.#sessionId,
      peer: this.peer,
      traceparent: traceparent === "" ? undefined : traceparent,
    };
    return { cancellation, context, done, refusal, startedAt: performance.now() };
  }

  /** Cancels call `id`, if it runs. */
  cancel(id: bigint, reason: ServerError): void {
    this.#running.get(id)?.abort(reason);
  }

  /** Cancels every call: the session ended. */
  cancelAll(reason: ServerError): void {
    for (const cancellation of this.#running.values()) cancellation.abort(reason);
    this.#running.clear();
  }

  #refusal(): ServerError | undefined {
    const { observer } = this.#ctx;
    if (this.draining) {
      observer.refused("draining");
      return new ServerError(Code.UNAVAILABLE, "node is shutting down; call another node");
    }
    if (this.#running.size >= this.#limits.maxCallsInFlight) {
      observer.refused("limit");
      return new ServerError(
        Code.RESOURCE_EXHAUSTED,
        `session has ${this.#limits.maxCallsInFlight} calls running, its limit; wait for some to finish`,
      );
    }
    const full = observer.inFlight.refusal();
    if (full) observer.refused("limit");
    return full;
  }
}
