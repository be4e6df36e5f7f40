import { Worker } from "node:worker_threads";
import type { FromWorker, ModuleSpec, ToWorker, WorkerStart } from "./worker-task.js";

// Under tsx (tests, development) the worker is the .ts source next to this
// file. Node 20 loads a worker's entry before the loader hooks inherited
// from --import are ready, so a line of JavaScript registers tsx's hooks
// first, then imports it. Built, it is worker.js, and a thread registers tsx
// only when it imports a user's TypeScript module (`ferry node --load
// ./objects.ts`): the module's spec carries the loader (ModuleSpec.typescript).
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_FILE = FROM_SOURCE
  ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)}))`
  : new URL("./worker.js", import.meta.url);
const TYPESCRIPT = /\.[cm]?ts$/i;

/** tsx's ESM API (the URL of `tsx/esm/api`) that built threads register to import TypeScript, once known. */
let typeScriptApi: string | undefined;

/**
 * Lets worker threads import users' TypeScript modules with the tsx whose
 * `tsx/esm/api` is at `api` (a file: URL), as the main thread does.
 */
export function importTypeScriptInThreads(api: string): void {
  typeScriptApi ??= api;
}

/** `spec` with the loader a thread needs to import it, when it is TypeScript and the thread lacks one. */
function withLoader(spec: ModuleSpec): ModuleSpec {
  if (FROM_SOURCE || typeScriptApi === undefined || !TYPESCRIPT.test(spec.module)) return spec;
  return { ...spec, typescript: typeScriptApi };
}

/** Longest a thread that is still starting is waited for before it is ended. */
const STARTING_WAIT_MS = 2000;

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
      workerData: { ...start, modules: start.modules.map(withLoader) },
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
    if (this.state === "gone") return;
    this.#worker.postMessage(
      message.type === "load" ? { ...message, spec: withLoader(message.spec) } : message,
    );
  }

  /**
   * Ends the thread, whatever it runs; `why` is how its end is told. A thread
   * still importing its modules is let finish first (for at most
   * {@link STARTING_WAIT_MS}): ending one mid-import can abort the whole
   * process with a V8 fatal error instead of the node's own message.
   */
  async stop(why: string): Promise<void> {
    this.#stopReason ??= why;
    for (let waited = 0; this.state === "starting" && waited < STARTING_WAIT_MS; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Held until it has exited, by a hold never released: an idle thread is
    // unref'd, a task that answers while it ends releases its own hold, and a
    // process with nothing else alive must not end before terminate() settles.
    this.hold();
    await this.#worker.terminate();
  }
}

function describeEnd(code: number, error: Error | undefined, oom: boolean): string {
  if (oom) return "ran out of memory";
  if (error) return `ended on an uncaught ${error.name}`;
  return `exited (process.exit(${code}))`;
}
