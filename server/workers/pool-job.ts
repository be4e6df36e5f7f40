import type { FromWorker, Work } from "./worker-task.js";
import type { WorkerThread } from "./worker-thread.js";

/** A thread's answer to a task that ended well. */
export type Done = Extract<FromWorker, { type: "done" }>;

/** What the worker pool keeps of one task, from its submission to its answer. */
export interface Job {
  task: number;
  /** Submission order: a free thread takes the oldest of its pinned work and the shared queue. */
  seq: number;
  work: Work;
  label: string;
  flag: Int32Array;
  pin: WorkerThread | undefined;
  /** The thread running it, once it runs. */
  thread: WorkerThread | undefined;
  signal: AbortSignal;
  onAbort: () => void;
  onItem: ((bytes: Uint8Array) => void) | undefined;
  resolve: (done: Done) => void;
  reject: (error: unknown) => void;
  /** The caller has had its answer (it was cancelled, say): what the thread says now is dropped. */
  answered: boolean;
  stopTimer: NodeJS.Timeout | undefined;
}
