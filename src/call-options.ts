/** Options every ferry call takes, last. */
export interface CallOptions {
  /** Deadline for the call in milliseconds from now. The connection's default applies when absent. */
  timeoutMs?: number;
  /** Aborting it cancels the call on the node too: the running computation stops. */
  signal?: AbortSignal;
}

/**
 * Deadline given to calls that set none. A gRPC call without a deadline can wait
 * forever on a node that never answers, so ferry never makes one.
 */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The absolute deadline for a call, validating `timeoutMs`. */
export function deadlineFrom(timeoutMs: number | undefined, fallbackMs: number): Date {
  const ms = timeoutMs ?? fallbackMs;
  if (typeof ms !== "number" || Number.isNaN(ms) || ms <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return new Date(Date.now() + Math.min(ms, 8.64e15 - Date.now()));
}
