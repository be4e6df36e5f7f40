import { AsyncLocalStorage } from "node:async_hooks";

/** What an exposed method can learn about the call it serves. */
export interface CallContext {
  /** Aborts when the caller cancels or the deadline passes: stop working then. */
  signal: AbortSignal;
  /** Absolute deadline in ms since the epoch (Date.now() scale). */
  deadline: number;
  /** The client session the call came through; undefined for unary Invoke. */
  sessionId: string | undefined;
  /** The caller's address. */
  peer: string;
  /**
   * The caller's W3C trace context (`00-<trace id>-<span id>-<flags>`), when
   * it sent one: for log lines that name the trace. Callbacks to the caller
   * carry it on.
   */
  traceparent: string | undefined;
}

// One store per process (or thread), whichever copy of ferry a user's module
// imports currentCall() from: the node's and the module's may differ.
const STORE = Symbol.for("ferry.currentCall");
const slot = globalThis as { [STORE]?: AsyncLocalStorage<CallContext> };
slot[STORE] ??= new AsyncLocalStorage<CallContext>();
const storage = slot[STORE];

/** Runs `fn` with `context` as the current call. */
export function runInCall<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * The call an exposed method is serving, from inside the method:
 *
 * ```ts
 * async slow() { const { signal } = currentCall(); await work({ signal }); }
 * ```
 * Throws outside a call.
 */
export function currentCall(): CallContext {
  const context = storage.getStore();
  if (!context) throw new Error("currentCall() is only available while a ferry call is being served");
  return context;
}
