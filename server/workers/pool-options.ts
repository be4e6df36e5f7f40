import { availableParallelism } from "node:os";
import { integerOption } from "../../src/option-error.js";

/** Limits of a node's worker pool; a node's `limits` carry them. */
export interface PoolLimits {
  /**
   * Tasks allowed to wait for a thread. Past it a call fails with
   * RESOURCE_EXHAUSTED instead of growing an unbounded queue. Default
   * {@link DEFAULT_MAX_QUEUE}.
   */
  maxQueue: number;
  /**
   * Heap a worker thread may use, in MiB; one that needs more is stopped
   * (its call fails with INTERNAL) and replaced. Default
   * {@link DEFAULT_WORKER_HEAP_MB}.
   */
  workerHeapMb: number;
  /**
   * How long a cancelled call (or one past its deadline) may go on before
   * its thread is ended and replaced: a synchronous loop that never looks at
   * its signal cannot hold a slot for ever. Default {@link DEFAULT_STOP_GRACE_MS}.
   */
  stopGraceMs: number;
}

/** Options of a node's worker pool, spelled as the node's own. */
export interface WorkerPoolOptions {
  /** Threads for CPU-bound calls, built-in and user code alike: the node's slots. Default: the machine's cores. */
  workers?: number;
  /** Unset ones keep their defaults; other fields (a node's other limits) are not the pool's. */
  limits?: Partial<PoolLimits>;
}

/** Heap of one worker thread by default, in MiB. */
export const DEFAULT_WORKER_HEAP_MB = 512;

/** Most tasks waiting for a worker by default. */
export const DEFAULT_MAX_QUEUE = 4096;

/** Time a cancelled task gets to stop by itself before its thread is ended. */
export const DEFAULT_STOP_GRACE_MS = 500;

/** Most worker threads of one pool. */
const MAX_WORKERS = 1024;

/**
 * Every option of a pool, checked, unset ones at their defaults. A bad one
 * is an OptionError at its path in a node's options (`workers`,
 * `limits.maxQueue`), thrown before any thread starts.
 */
export function poolOptions(options: WorkerPoolOptions): { workers: number } & PoolLimits {
  const limits = options.limits ?? {};
  return {
    workers: integerOption("workers", options.workers ?? availableParallelism(), 1, MAX_WORKERS),
    workerHeapMb: integerOption("limits.workerHeapMb", limits.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB, 1),
    maxQueue: integerOption("limits.maxQueue", limits.maxQueue ?? DEFAULT_MAX_QUEUE, 1),
    stopGraceMs: integerOption("limits.stopGraceMs", limits.stopGraceMs ?? DEFAULT_STOP_GRACE_MS, 1),
  };
}
