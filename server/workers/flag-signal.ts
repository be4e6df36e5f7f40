import { setMaxListeners } from "node:events";
import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import { STOP_DEADLINE } from "./worker-task.js";

const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")?.get as (
  this: AbortSignal,
) => boolean;
const nativeReason = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "reason")?.get as (
  this: AbortSignal,
) => unknown;

/**
 * An AbortSignal for a call running in a worker thread, backed by the task's
 * shared flag. A synchronous loop never lets the thread read the main
 * thread's cancel message, so `aborted`, `reason` and `throwIfAborted()` read
 * the flag itself; `sync()` (on that message) fires the listeners of code
 * that awaits.
 */
export function flagSignal(flag: Int32Array): { signal: AbortSignal; sync: () => void } {
  const controller = new AbortController();
  const signal = controller.signal;
  // Every entry of a batch shares its task's signal: many listeners are expected.
  setMaxListeners(0, signal);
  const sync = () => {
    const why = Atomics.load(flag, 0);
    if (why === 0 || nativeAborted.call(signal)) return;
    controller.abort(
      why === STOP_DEADLINE
        ? new ServerError(Code.DEADLINE_EXCEEDED, "deadline exceeded")
        : new ServerError(Code.CANCELLED, "call was cancelled by the caller"),
    );
  };
  Object.defineProperties(signal, {
    aborted: {
      get() {
        sync();
        return nativeAborted.call(signal);
      },
    },
    reason: {
      get() {
        sync();
        return nativeReason.call(signal);
      },
    },
    throwIfAborted: {
      value() {
        sync();
        AbortSignal.prototype.throwIfAborted.call(signal);
      },
    },
  });
  return { signal, sync };
}
