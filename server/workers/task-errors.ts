import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import type { WorkerThread } from "./worker-thread.js";

/** The error an actor's call gets once the thread its state lived in is gone. */
export function actorGone(label: string, thread: WorkerThread): ServerError {
  return new ServerError(
    Code.FAILED_PRECONDITION,
    `${label}: the worker thread this instance lived in ${thread.endReason ?? "ended"}, so its state is gone; release the proxy (or open a new session) to get a new instance`,
  );
}

/** Why a task whose signal aborted stops: the signal's ServerError, or CANCELLED. */
export function stopReason(signal: AbortSignal): ServerError {
  const reason = signal.reason as unknown;
  if (reason instanceof ServerError) return reason;
  return new ServerError(Code.CANCELLED, "call was cancelled", { cause: reason });
}

/** What tasks get once the pool is stopping. */
export function shuttingDown(): ServerError {
  return new ServerError(Code.UNAVAILABLE, "node is shutting down; call another node");
}
