/**
 * What the main thread and a node's worker threads say to each other. Every
 * message is structured-cloned; a call's results come back already encoded as
 * the session's ServerMessage bytes, so the main thread never walks them.
 */

/** A built-in kernel's work: the compute objects' CPU-bound part. */
export type KernelTask =
  | { kind: "trial-division"; n: bigint }
  | { kind: "miller-rabin"; n: bigint }
  | { kind: "find-divisor"; n: bigint; from: bigint; to: bigint }
  | { kind: "pi"; seed: bigint; startBlock: number; samples: number };

/**
 * What a kernel answers. Cancellation is a value, not a thrown error: the
 * kernel saw its flag and stopped with no result.
 */
export type KernelResult =
  | { kind: "prime"; prime: boolean; divisor: bigint; seconds: number }
  | { kind: "divisor"; divisor: bigint; seconds: number }
  | { kind: "pi"; inside: number; seconds: number }
  | { kind: "cancelled" };

/** Which instance serves a user call in a worker: the export itself, a new one per call, or an actor. */
export type WorkerInstance = { kind: "export" } | { kind: "percall" } | { kind: "actor"; id: number };

/**
 * Arguments of a call task: one call's list, or a batch's entries. Entries
 * that all take the same number of arguments travel as one flat list
 * (cloning one array is far cheaper than cloning thousands of small ones).
 */
export type PackedArgs =
  | { kind: "one"; args: unknown[] }
  | { kind: "flat"; arity: number; count: number; args: unknown[] }
  | { kind: "nested"; entries: unknown[][] };

/** A call of a user's method that runs in a worker thread. */
export interface CallTask {
  kind: "call";
  /** file: URL of the module, imported by every worker at start. */
  module: string;
  /** The export that holds the object or class. */
  exportName: string;
  /** `object.method`, as messages and logs name it. */
  label: string;
  method: string;
  instance: WorkerInstance;
  args: PackedArgs;
  /**
   * What to answer: `result` (one call's value), `batch` (a BatchResult of
   * every entry), `outcomes` (a batch's partial BatchResults as its entries
   * end, sent as items, then the last), `stream` (each item as it is
   * yielded, then the end), or `collect` (a stream's items as one list, for
   * unary Invoke).
   */
  answer: "result" | "batch" | "outcomes" | "stream" | "collect";
  /** The session's id of the call, written into the encoded answer. */
  id: bigint;
  /** Items the worker may send ahead of the main thread's reader (answer "stream"). */
  window: number;
  deadline: number;
  sessionId: string | undefined;
  peer: string;
  traceparent: string | undefined;
}

/**
 * Drops an actor's instance: queued behind the calls already waiting for it,
 * so none of them finds it gone (or makes it anew).
 */
export interface DropTask {
  kind: "drop";
  actor: number;
}

/** What a thread can be asked to run. */
export type Work = KernelTask | CallTask | DropTask;

/** One module's exports a worker must import and check. */
export interface ModuleSpec {
  /** file: URL. */
  module: string;
  /** For a TypeScript module: tsx's `tsx/esm/api` (a file: URL), registered in the thread before it imports. */
  typescript?: string;
  /** As the user named it (a path), for messages. */
  file: string;
  exportName: string;
  /** Methods that must be functions of the export (or of its prototype, for a class). */
  methods: string[];
  isClass: boolean;
}

/** An error as it crosses the thread boundary: enough to rebuild it on the main thread. */
export interface ThrownError {
  name: string;
  message: string;
  stack: string;
  /** Set for a ServerError: the status it chose. */
  code?: number;
  field?: string;
}

/** Data every worker starts with. */
export interface WorkerStart {
  modules: ModuleSpec[];
  exposeStacks: boolean;
}

/** Main thread to worker. `flag` is shared memory: raising it asks the work to stop. */
export type ToWorker =
  | { type: "task"; task: number; flag: Int32Array; work: Work }
  | { type: "cancel"; task: number }
  | { type: "more"; task: number; items: number }
  | { type: "load"; load: number; spec: ModuleSpec };

/** Worker to main thread. */
export type FromWorker =
  | { type: "ready"; error?: ThrownError }
  | { type: "loaded"; load: number; error?: ThrownError }
  | {
      type: "done";
      task: number;
      result?: KernelResult;
      bytes?: Uint8Array;
      /** A batch's entries that failed: each one's status code. */
      failed?: number[];
    }
  | { type: "failed"; task: number; error: ThrownError }
  | { type: "item"; task: number; bytes: Uint8Array }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; line: string };

/** Values of a task's cancel flag: why it should stop. */
export const STOP_CANCELLED = 1;
export const STOP_DEADLINE = 2;
