import type { CancelFlag } from "../src/kernels/cancel.js";

/**
 * A unit of CPU-bound work sent to a worker thread. `flag` is shared with the
 * main thread: raising it makes the kernel stop at its next poll.
 */
export type WorkerTask =
  | { kind: "trial-division"; n: bigint; flag: CancelFlag }
  | { kind: "miller-rabin"; n: bigint; flag: CancelFlag }
  | { kind: "find-divisor"; n: bigint; from: bigint; to: bigint; flag: CancelFlag }
  | { kind: "pi"; seed: bigint; startBlock: number; samples: number; flag: CancelFlag };

/**
 * What a worker answers. Cancellation is a value, not a thrown error: errors
 * lose their class crossing the thread boundary.
 */
export type WorkerResult =
  | { kind: "prime"; prime: boolean; divisor: bigint; seconds: number }
  | { kind: "divisor"; divisor: bigint; seconds: number }
  | { kind: "pi"; inside: number; seconds: number }
  | { kind: "cancelled" };
