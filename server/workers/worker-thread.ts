import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker, WorkerStart } from "./worker-task.js";

// Under tsx (tests, development) the worker is the .ts source next to this
// file. Node 20 loads a worker's entry before the loader hooks inherited
// from --import are ready, so a line of JavaScript registers tsx's hooks
// first, then imports it.
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_FILE = FROM_SOURCE
  ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)}))`
  : new URL("./worker.js", import.meta.url);

/** Where a thread is in its life. */
export type ThreadState = "starting" | "ready" | "gone";

/** What a thread tells its pool. */
export interface ThreadEvents {
  message(thread: WorkerThread, message: FromWorker): void;
  /** The thread has ended; `why` says how, in words that follow "its worker thread". */
  ended(thread: WorkerThread, why: string, outOfMemory: boolean): void;
}

/**
 * One worker thread of a node's pool, as the main thread sees it: its state,
 * the task it runs (one at a time), the actors that live in it, and how it
 * ended. The pool decides what it runs.
 */
export class WorkerThread {
  readonly #worker: Worker;
  readonly threadId: number;
  readonly startedAt = performance.now();
  state: ThreadState = "starting";
  /** Whether it ever got ready: one that ends before is not started again at once. */
  started = false;
  /** Actors made in this thread and not yet dropped. */
  actors = 0;
  /** Why the thread ended, once it has ("ran out of memory", "was stopped: …"). */
  endReason: string | undefined;
  #error: Error | undefined;
  #stopReason: string | undefined;
  #holds = 0;

  constructor(start: WorkerStart, heapMb: number, events: ThreadEvents) {
    this.#worker = new Worker(WORKER_FILE, {
      workerData: start,
      eval: FROM_SOURCE,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    this.threadId = this.#worker.threadId;
    this.#worker.on("message", (message: FromWorker) => events.message(this, message));
    this.#worker.on("error", (err) => {
      this.#error = err;
    });
    this.#worker.once("exit", (code) => {
      this.state = "gone";
      const oom = (this.#error as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.endReason = this.#stopReason ?? describeEnd(code, this.#error, oom);
      events.ended(this, this.endReason, oom);
    });
    // Idle threads never keep the process alive (a node's server does); one
    // that is starting, importing or running a task does.
    this.#worker.unref();
    this.hold();
  }

  /** Keeps the process alive until a matching {@link release}: the thread has work. */
  hold(): void {
    if (this.#holds++ === 0) this.#worker.ref();
  }

  release(): void {
    if (--this.#holds === 0) this.#worker.unref();
  }

  /** The error that ended the thread, if one did (an uncaught throw). */
  get error(): Error | undefined {
    return this.#error;
  }

  post(message: ToWorker): void {
    if (this.state !== "gone") this.#worker.postMessage(message);
  }

  /** Ends the thread now, whatever it runs; `why` is how its end is told. */
  stop(why: string): Promise<void> {
    this.#stopReason ??= why;
    return this.#worker.terminate().then(() => {});
  }
}

function describeEnd(code: number, error: Error | undefined, oom: boolean): string {
  if (oom) return "ran out of memory";
  if (error) return `ended on an uncaught ${error.name}`;
  return `exited (process.exit(${code}))`;
}
