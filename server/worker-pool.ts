import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { Code } from "../src/code.js";
import { cancel, createCancelFlag } from "../src/kernels/cancel.js";
import { ServerError } from "../src/server-error.js";
import type { WorkerResult, WorkerTask } from "./worker-task.js";

type TaskInput = WorkerTask extends infer T ? (T extends WorkerTask ? Omit<T, "flag"> : never) : never;

/** Options of a node's worker pool. */
export interface WorkerPoolOptions {
  /** Threads for CPU-bound calls: the node's slots. Default: the machine's cores. */
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
  /** The module the threads run (its default export takes a task); the node's own by default. */
  workerFile?: string;
}

/** Heap of one worker thread by default, in MiB: the kernels need little. */
export const DEFAULT_WORKER_HEAP_MB = 512;

/** Most tasks waiting for a worker by default. */
export const DEFAULT_MAX_QUEUE = 4096;

// Under tsx (tests, development) the worker is the .ts source next to this file.
const WORKER_FILE = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url)
  .href;

/**
 * The threads that run a node's CPU-bound work, so the event loop only does
 * I/O and stays responsive (health checks answer while every worker is busy).
 *
 * Cancellation raises the task's shared flag rather than aborting through
 * piscina: piscina would terminate the thread, and starting a new one costs far
 * more than the kernel noticing the flag within a few milliseconds.
 */
export class WorkerPool {
  readonly size: number;
  readonly #piscina: Piscina;

  constructor(options: WorkerPoolOptions = {}) {
    this.size = options.workers ?? availableParallelism();
    if (!Number.isInteger(this.size) || this.size < 1 || this.size > 1024) {
      throw new RangeError(`workers must be an integer from 1 to 1024, got ${options.workers}`);
    }
    this.#piscina = new Piscina({
      filename: options.workerFile ?? WORKER_FILE,
      resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB },
      minThreads: this.size,
      maxThreads: this.size,
      maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
    });
  }

  /** Tasks submitted and not yet finished (running or queued). */
  get pending(): number {
    return this.#pending;
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.#piscina.queueSize;
  }

  /**
   * Runs one task. Aborting `signal` stops it (queued or running) and rejects
   * with CANCELLED; the worker is free again within milliseconds.
   */
  async run(task: TaskInput, signal: AbortSignal): Promise<Exclude<WorkerResult, { kind: "cancelled" }>> {
    if (signal.aborted) throw cancelled(signal);
    const flag = createCancelFlag();
    const onAbort = () => cancel(flag);
    signal.addEventListener("abort", onAbort, { once: true });
    this.#pending++;
    try {
      let result: WorkerResult;
      try {
        result = await this.#piscina.run({ ...task, flag } as WorkerTask);
      } catch (err) {
        if (err instanceof Error && /queue is at limit/i.test(err.message)) {
          throw new ServerError(
            Code.RESOURCE_EXHAUSTED,
            `node is at its limit of ${this.#piscina.options.maxQueue} queued tasks; retry later or on another node`,
          );
        }
        if (signal.aborted) throw cancelled(signal);
        // The task threw, or its thread died (out of memory, say) and piscina started another.
        const oom = (err as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY";
        throw new ServerError(
          Code.INTERNAL,
          oom
            ? "the worker running this call ran out of memory and was replaced; the node keeps serving"
            : "the worker running this call failed; the node keeps serving",
          { cause: err },
        );
      }
      if (result.kind === "cancelled") throw cancelled(signal);
      return result;
    } finally {
      this.#pending--;
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Stops every thread; tasks still running are abandoned. */
  async destroy(): Promise<void> {
    await this.#piscina.destroy();
  }

  #pending = 0;
}

function cancelled(signal: AbortSignal): ServerError {
  const reason = signal.reason as unknown;
  if (reason instanceof ServerError) return reason;
  return new ServerError(Code.CANCELLED, "call was cancelled", { cause: reason });
}
