/**
 * A flag another thread can raise to stop a running kernel. Backed by an Int32Array over a
 * SharedArrayBuffer (or a plain ArrayBuffer in tests); element 0 is non-zero once raised.
 */
export type CancelFlag = Int32Array;

/** Creates a lowered flag over shared memory, so it can be posted to a worker and raised from either side. */
export function createCancelFlag(): CancelFlag {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** True once `flag` has been raised; an absent flag is never raised. */
export function isCancelled(flag: CancelFlag | undefined): boolean {
  return flag !== undefined && Atomics.load(flag, 0) !== 0;
}

/** Raises `flag`. Kernels watching it stop at their next check and throw {@link CancelledError}. */
export function cancel(flag: CancelFlag): void {
  Atomics.store(flag, 0, 1);
}

/** Thrown by a kernel that stopped because its cancel flag was raised; it carries no partial result. */
export class CancelledError extends Error {
  override name = "CancelledError";

  constructor(message = "cancelled") {
    super(message);
  }
}

/** Throws {@link CancelledError} if `flag` has been raised. */
export function throwIfCancelled(flag: CancelFlag | undefined): void {
  if (isCancelled(flag)) throw new CancelledError();
}
