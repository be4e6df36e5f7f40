import { availableParallelism } from "node:os";

/** Options of a node's worker pool. */
export interface WorkerPoolOptions {
  /** Threads for CPU-bound calls, built-in and user code alike: the node's slots. Default: the machine's cores. */
  workers?: number;
  /**
   * Tasks allowed to wait for a thread. Past it a call fails with
   * RESOURCE_EXHAUSTED instead of growing an unbounded queue.
   */
  maxQueue?: number;
  /**
   * Heap a worker thread may use, in MiB; one that needs more is stopped
   * (its call fails with INTERNAL) and replaced. Default
   * {@link DEFAULT_WORKER_HEAP_MB}.
   */
  workerHeapMb?: number;
  /**
   * How long a cancelled call (or one past its deadline) may go on before
   * its thread is ended and replaced: a synchronous loop that never looks at
   * its signal cannot hold a slot for ever. Default {@link DEFAULT_STOP_GRACE_MS}.
   */
  stopGraceMs?: number;
}

/** Heap of one worker thread by default, in MiB. */
export const DEFAULT_WORKER_HEAP_MB = 512;

/** Most tasks waiting for a worker by default. */
export const DEFAULT_MAX_QUEUE = 4096;

/** Time a cancelled task gets to stop by itself before its thread is ended. */
export const DEFAULT_STOP_GRACE_MS = 500;

/** Every option of a pool, checked, unset ones at their defaults. */
export function poolOptions(options: WorkerPoolOptions): Required<WorkerPoolOptions> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) {
    throw new RangeError(`workers must be an integer from 1 to 1024, got ${options.workers}`);
  }
  return {
    workers,
    workerHeapMb: positive("workerHeapMb", options.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB),
    maxQueue: positive("maxQueue", options.maxQueue ?? DEFAULT_MAX_QUEUE),
    stopGraceMs: positive("stopGraceMs", options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
