import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker, WorkerStart } from "./worker-task.js";

// Under tsx (tests, development) the worker is the .ts source next to this
// file, and every thread registers tsx's loader before importing it: Node 20
// loads a worker's entry before the loader hooks inherited from --import are
// ready. Built, it is worker.js, and a thread registers the loader only once
// users' TypeScript modules need it (`ferry node --load ./objects.ts`).
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(FROM_SOURCE ? "./worker.ts" : "./worker.js", import.meta.url).href;
const TYPESCRIPT = /\.[cm]?ts$/i;

/** tsx's ESM API (the URL of `tsx/esm/api`) that threads register to import TypeScript, once known. */
let typeScriptApi: string | undefined = FROM_SOURCE ? import.meta.resolve("tsx/esm/api") : undefined;

/**
 * Lets worker threads import users' TypeScript modules with the tsx whose
 * `tsx/esm/api` is at `api` (a file: URL), as the main thread does: threads
 * started from now on register it first, and one started before registers
 * it when it is asked to import a TypeScript module.
 */
export function importTypeScriptInThreads(api: string): void {
  typeScriptApi ??= api;
}

/**
 * The first code of a thread (CommonJS, run with `eval`): registers tsx's
 * loader when `api` is given, then imports the worker. Threads start with
 * the node, before `--load` knows it needs TypeScript, so a module load may
 * bring the loader later (its `typescript` field). Registering is
 * asynchronous, so the entry wraps the message listener worker.ts adds
 * (`parentPort.on`): messages that arrive meanwhile wait, in order, and
 * worker.ts sees none of them before the loader is in place. A loader that
 * fails to register is passed over: the module's import then fails, naming
 * the file, where a thread waiting for it would never get ready.
 */
function entry(api: string | undefined): string {
  return `"use strict";
const { parentPort } = require("node:worker_threads");
const register = (api) => import(api).then((tsx) => { tsx.register(); }).catch(() => {});
let registering = ${api === undefined ? "undefined" : `register(${JSON.stringify(api)})`};
const on = parentPort.on;
parentPort.on = function (event, listener) {
  if (event !== "message") return on.call(this, event, listener);
  let held;
  return on.call(this, event, (message) => {
    if (held) return void held.push(message);
    if (registering === undefined && message.typescript) {
      held = [message];
      registering = register(message.typescript).then(() => {
        const waiting = held;
        held = undefined;
        for (const m of waiting) listener(m);
      });
      return;
    }
    listener(message);
  });
};
(registering ?? Promise.resolve()).then(() => import(${JSON.stringify(WORKER_URL)}));
`;
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
  /** Whether the thread has, or has been sent, tsx's loader. */
  #typeScript: boolean;

  constructor(start: WorkerStart, heapMb: number, events: ThreadEvents) {
    this.#typeScript = typeScriptApi !== undefined;
    this.#worker = new Worker(entry(typeScriptApi), {
      workerData: start,
      eval: true,
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
    if (
      !this.#typeScript &&
      message.type === "load" &&
      TYPESCRIPT.test(message.spec.module) &&
      typeScriptApi
    ) {
      // The thread's entry code registers it before worker.ts sees the load.
      this.#typeScript = true;
      this.#worker.postMessage({ ...message, typescript: typeScriptApi });
      return;
    }
    this.#worker.postMessage(message);
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
    await this.#worker.terminate();
  }
}

function describeEnd(code: number, error: Error | undefined, oom: boolean): string {
  if (oom) return "ran out of memory";
  if (error) return `ended on an uncaught ${error.name}`;
  return `exited (process.exit(${code}))`;
}
