import { Code } from "../../src/code.js";
import { createLog, type Log } from "../../src/log.js";
import { ServerError } from "../../src/server-error.js";
import { ModuleLoads } from "./module-loads.js";
import type { Done, Job } from "./pool-job.js";
import { DEFAULT_STOP_GRACE_MS, poolOptions, type WorkerPoolOptions } from "./pool-options.js";
import { actorGone, shuttingDown, stopReason } from "./task-errors.js";
import { TaskQueue } from "./task-queue.js";
import { fromThrown } from "./thrown-error.js";
import {
  type CallTask,
  type FromWorker,
  type KernelResult,
  type KernelTask,
  type ModuleSpec,
  STOP_CANCELLED,
  STOP_DEADLINE,
  type Work,
} from "./worker-task.js";
import { type ThreadEvents, WorkerThread } from "./worker-thread.js";

/** The signal of tasks nobody cancels. */
const NEVER = new AbortController().signal;

/**
 * First and longest wait before starting again a thread that could not start
 * (its modules failed to import, or it ended while importing them).
 */
const RESTART_DELAY_MS = [1_000, 30_000] as const;

/**
 * The threads that run a node's CPU-bound work, its own kernels and its
 * users' exposed code alike, so the event loop only does I/O and stays
 * responsive. Each thread runs one task at a time. Work goes to any free
 * thread, in order, except an actor's, which waits for the one thread its
 * state lives in. A thread that dies (out of memory, process.exit, an
 * uncaught throw) fails only the task it ran, and a new one takes its slot.
 *
 * Cancellation raises the task's shared flag, which kernels poll and a user
 * method's signal reads, and the caller is answered at once. A task that has
 * not stopped {@link DEFAULT_STOP_GRACE_MS} later has its thread ended.
 */
export class WorkerPool {
  readonly size: number;
  readonly #heapMb: number;
  readonly #maxQueue: number;
  readonly #graceMs: number;
  readonly #exposeStacks: boolean;
  readonly #log: Log;
  readonly #threads: WorkerThread[] = [];
  readonly #running = new Map<WorkerThread, Job>();
  readonly #jobs = new Map<number, Job>();
  readonly #queue = new TaskQueue<Job, WorkerThread>();
  readonly #modules = new ModuleLoads();
  readonly #events: ThreadEvents;
  #nextTask = 1;
  #seq = 0;
  #restartDelay: number = RESTART_DELAY_MS[0];
  #destroyed = false;
  /** Timers that start a thread again after one failed before it was ready. */
  readonly #restarts = new Set<NodeJS.Timeout>();

  constructor(options: WorkerPoolOptions & { exposeStacks?: boolean; log?: Log } = {}) {
    ({
      workers: this.size,
      workerHeapMb: this.#heapMb,
      maxQueue: this.#maxQueue,
      stopGraceMs: this.#graceMs,
    } = poolOptions(options));
    this.#exposeStacks = options.exposeStacks ?? false;
    this.#log = options.log ?? createLog({ name: "ferry node" });
    this.#events = {
      message: (thread, message) => this.#onMessage(thread, message),
      ended: (thread, why, oom) => this.#onEnded(thread, why, oom),
    };
    for (let i = 0; i < this.size; i++) this.#threads.push(this.#spawn());
  }

  /** Threads running a task now. */
  get busy(): number {
    return this.#running.size;
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Tasks submitted and not yet answered (running or queued). */
  get pending(): number {
    let pending = this.#queue.size;
    for (const job of this.#running.values()) if (!job.answered) pending++;
    return pending;
  }

  /**
   * Runs one kernel task. Aborting `signal` stops it (queued or running) and
   * rejects with its reason, CANCELLED or DEADLINE_EXCEEDED.
   */
  async run(task: KernelTask, signal: AbortSignal): Promise<Exclude<KernelResult, { kind: "cancelled" }>> {
    const done = await this.#submit(task, task.kind, signal, undefined, undefined).done;
    const result = done.result as KernelResult;
    if (result.kind === "cancelled") throw stopReason(signal);
    return result;
  }

  /**
   * Runs a user's call in a thread (`pin`: that thread, where its actor
   * lives) and resolves with the encoded answer. Rejects with the method's
   * error rebuilt, or with INTERNAL when its thread died.
   */
  async call(task: CallTask, signal: AbortSignal, pin?: WorkerThread): Promise<Uint8Array | undefined> {
    return (await this.#submit(task, task.label, signal, pin, undefined).done).bytes;
  }

  /**
   * Runs a batch in a thread, as {@link call}; with the codes of the entries
   * that failed. Partial answers (answer "outcomes") go to `partial` as the
   * thread sends them.
   */
  async batch(
    task: CallTask,
    signal: AbortSignal,
    pin?: WorkerThread,
    partial?: (bytes: Uint8Array) => void,
  ): Promise<{ bytes: Uint8Array; failed: number[] }> {
    const done = await this.#submit(task, task.label, signal, pin, partial).done;
    return { bytes: done.bytes as Uint8Array, failed: done.failed ?? [] };
  }

  /**
   * Runs a streaming call: each item's encoded message goes to `onItem` as
   * the thread sends it, at most `task.window` ahead of what `more()` has
   * granted since. `done` settles when the stream has ended.
   */
  stream(
    task: CallTask,
    signal: AbortSignal,
    pin: WorkerThread | undefined,
    onItem: (bytes: Uint8Array) => void,
  ): { done: Promise<void>; more: (items: number) => void } {
    const { job, done } = this.#submit(task, task.label, signal, pin, onItem);
    return {
      done: done.then(() => {}),
      more: (items) => job?.thread?.post({ type: "more", task: job.task, items }),
    };
  }

  /**
   * Imports a module's export in every thread, now and in every thread that
   * starts later. Rejects, naming the file, the export and the cause, when a
   * thread cannot import it or the export is not what was exposed.
   */
  load(spec: ModuleSpec): Promise<void> {
    return this.#modules.start(
      spec,
      this.#threads.filter((t) => t.state !== "gone"),
    );
  }

  /** The thread a new actor should live in: the one with the fewest actors, then the least work. */
  placeActor(): WorkerThread {
    let best: WorkerThread | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const thread of this.#threads) {
      if (thread.state === "gone") continue;
      const work = (this.#running.has(thread) ? 1 : 0) + this.#queue.pinnedTo(thread);
      const load = thread.actors * 1e6 + work;
      if (load < bestLoad) {
        best = thread;
        bestLoad = load;
      }
    }
    if (!best) throw new ServerError(Code.UNAVAILABLE, "node has no worker thread running; retry later");
    best.actors++;
    return best;
  }

  /** Drops actor `id` from its thread, once the calls already waiting for it have run. */
  dropActor(thread: WorkerThread, id: number): void {
    if (thread.state === "gone") return;
    thread.actors--;
    this.#submit({ kind: "drop", actor: id }, "an actor's release", NEVER, thread, undefined).done.catch(
      () => {},
    );
  }

  /** Stops every thread; tasks still queued or running fail with UNAVAILABLE. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    const stopping = shuttingDown();
    this.#queue.clear();
    for (const job of [...this.#jobs.values()]) this.#finish(job, () => job.reject(stopping));
    await Promise.all(this.#threads.map((t) => t.stop("was stopped: the node shut down")));
  }

  #spawn(): WorkerThread {
    return new WorkerThread(
      { modules: [...this.#modules.specs], exposeStacks: this.#exposeStacks },
      this.#heapMb,
      this.#events,
    );
  }

  #submit(
    work: Work,
    label: string,
    signal: AbortSignal,
    pin: WorkerThread | undefined,
    onItem: ((bytes: Uint8Array) => void) | undefined,
  ): { job: Job | undefined; done: Promise<Done> } {
    const refuse = (error: ServerError) => ({ job: undefined, done: Promise.reject(error) });
    if (signal.aborted) return refuse(stopReason(signal));
    if (this.#destroyed) return refuse(shuttingDown());
    if (pin?.state === "gone") return refuse(actorGone(label, pin));
    const idle = pin ? (this.#isIdle(pin) ? pin : undefined) : this.#idleThread();
    // A release always queues: it frees what the queue's calls held.
    if (!idle && this.#queue.size >= this.#maxQueue && work.kind !== "drop") {
      return refuse(
        new ServerError(
          Code.RESOURCE_EXHAUSTED,
          `node is at its limit of ${this.#maxQueue} queued tasks; retry later or on another node`,
        ),
      );
    }
    let job!: Job;
    const done = new Promise<Done>((resolve, reject) => {
      job = {
        task: this.#nextTask++,
        seq: this.#seq++,
        work,
        label,
        flag: new Int32Array(new SharedArrayBuffer(4)),
        pin,
        thread: undefined,
        signal,
        onAbort: () => this.#abort(job),
        onItem,
        resolve,
        reject,
        answered: false,
        stopTimer: undefined,
      };
    });
    this.#jobs.set(job.task, job);
    signal.addEventListener("abort", job.onAbort, { once: true });
    if (idle) this.#start(idle, job);
    else this.#queue.push(job, pin);
    return { job, done };
  }

  #isIdle(thread: WorkerThread): boolean {
    return thread.state === "ready" && !this.#running.has(thread);
  }

  #idleThread(): WorkerThread | undefined {
    for (const thread of this.#threads) if (this.#isIdle(thread)) return thread;
    return undefined;
  }

  #start(thread: WorkerThread, job: Job): void {
    job.thread = thread;
    thread.hold();
    this.#running.set(thread, job);
    thread.post({ type: "task", task: job.task, flag: job.flag, work: job.work });
  }

  /** Gives a free thread the oldest of its actors' work and the shared queue. */
  #drain(thread: WorkerThread): void {
    if (!this.#isIdle(thread)) return;
    const job = this.#queue.next(thread);
    if (job) this.#start(thread, job);
  }

  #abort(job: Job): void {
    if (job.answered) return;
    const reason = stopReason(job.signal);
    const thread = job.thread;
    if (!thread) {
      // Still waiting: it never starts.
      job.answered = true;
      this.#queue.forget();
      this.#jobs.delete(job.task);
      job.reject(reason);
      return;
    }
    Atomics.store(job.flag, 0, reason.code === Code.DEADLINE_EXCEEDED ? STOP_DEADLINE : STOP_CANCELLED);
    thread.post({ type: "cancel", task: job.task });
    job.answered = true;
    job.reject(reason);
    const what = reason.code === Code.DEADLINE_EXCEEDED ? "its deadline" : "being cancelled";
    job.stopTimer = setTimeout(() => {
      if (this.#running.get(thread) !== job) return;
      this.#log.warn(
        `${job.label} went on ${this.#graceMs} ms after ${what} without stopping; its worker thread is ended and replaced`,
      );
      void thread.stop(`was stopped: ${job.label} went on ${this.#graceMs} ms after ${what}`);
    }, this.#graceMs);
    job.stopTimer.unref();
  }

  /** Takes a job out of the pool's books; `answer` runs unless the caller already had its answer. */
  #finish(job: Job, answer: () => void): void {
    clearTimeout(job.stopTimer);
    job.signal.removeEventListener("abort", job.onAbort);
    this.#jobs.delete(job.task);
    if (!job.answered) {
      job.answered = true;
      answer();
    }
  }

  #onMessage(thread: WorkerThread, message: FromWorker): void {
    switch (message.type) {
      case "ready":
        if (message.error) {
          this.#log.error(`a new worker thread could not import its modules: ${message.error.message}`);
          void thread.stop("could not start");
          return;
        }
        thread.state = "ready";
        thread.started = true;
        this.#restartDelay = RESTART_DELAY_MS[0];
        thread.release();
        this.#drain(thread);
        return;
      case "loaded":
        this.#modules.answered(thread, message.load, message.error);
        return;
      case "item": {
        const job = this.#jobs.get(message.task);
        if (job && !job.answered) job.onItem?.(message.bytes);
        return;
      }
      case "log":
        this.#log[message.level](message.line);
        return;
      case "done":
      case "failed": {
        const job = this.#running.get(thread);
        if (!job || job.task !== message.task) return;
        this.#running.delete(thread);
        thread.release();
        this.#finish(job, () =>
          message.type === "done" ? job.resolve(message) : job.reject(fromThrown(message.error)),
        );
        this.#drain(thread);
        return;
      }
    }
  }

  #onEnded(thread: WorkerThread, why: string, oom: boolean): void {
    const job = this.#running.get(thread);
    this.#running.delete(thread);
    if (job) {
      const detail = oom ? ` (workerHeapMb ${this.#heapMb})` : "";
      if (thread.error && !oom) {
        this.#log.error(`${job.label}: its worker thread ${why}: ${thread.error.stack ?? thread.error}`);
      }
      this.#finish(job, () =>
        job.reject(
          new ServerError(
            Code.INTERNAL,
            `${job.label}: its worker thread ${why}${detail} and was replaced; the node keeps serving`,
          ),
        ),
      );
    }
    for (const pinned of this.#queue.drop(thread)) {
      this.#finish(pinned, () => pinned.reject(actorGone(pinned.label, thread)));
    }
    this.#modules.ended(thread, why, job === undefined && !this.#destroyed);
    if (this.#destroyed) return;
    const slot = this.#threads.indexOf(thread);
    const replace = () => {
      if (!this.#destroyed) this.#threads[slot] = this.#spawn();
    };
    if (thread.started) {
      replace();
      return;
    }
    // It never got ready: try again later, and later still if it fails again.
    this.#log.warn(
      `a worker thread ${why} before it was ready; starting another in ${this.#restartDelay} ms`,
    );
    // Held: a module load or a call may be waiting for this slot's thread, and
    // nothing else may keep the process alive meanwhile (destroy() clears it).
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      replace();
    }, this.#restartDelay);
    this.#restarts.add(timer);
    this.#restartDelay = Math.min(this.#restartDelay * 2, RESTART_DELAY_MS[1]);
  }
}
