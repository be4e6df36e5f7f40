import type { ModuleSpec, ThrownError } from "./worker-task.js";
import type { WorkerThread } from "./worker-thread.js";

interface Load {
  spec: ModuleSpec;
  waiting: Set<WorkerThread>;
  error: ThrownError | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The users' modules a pool's threads import: every thread that starts
 * imports those loaded so far, and a module loaded later is imported by
 * every thread alive, each answering when it has.
 */
export class ModuleLoads {
  /** What a new thread imports before it takes a task. */
  readonly specs: ModuleSpec[] = [];
  readonly #loads = new Map<number, Load>();
  #next = 1;

  /** Asks `threads` to import `spec`; settles once each has answered (or ended). */
  start(spec: ModuleSpec, threads: readonly WorkerThread[]): Promise<void> {
    this.specs.push(spec);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const load: Load = { spec, waiting: new Set(threads), error: undefined, resolve, reject };
      this.#loads.set(id, load);
      for (const thread of threads) {
        thread.hold();
        thread.post({ type: "load", load: id, spec });
      }
      this.#settle(id, load);
    });
  }

  /** `thread` answered load `id`. */
  answered(thread: WorkerThread, id: number, error: ThrownError | undefined): void {
    const load = this.#loads.get(id);
    if (!load) return;
    if (load.waiting.delete(thread)) thread.release();
    load.error ??= error;
    this.#settle(id, load);
  }

  /**
   * `thread` ended (`why`, in words after "the thread") and answers nothing
   * more. Only a thread that was doing nothing but importing blames the
   * import; one that died of a task leaves the load to its replacement,
   * which imports every module at start.
   */
  ended(thread: WorkerThread, why: string, importing: boolean): void {
    for (const [id, load] of this.#loads) {
      if (!load.waiting.delete(thread)) continue;
      const { file, exportName } = load.spec;
      if (importing) {
        load.error ??= {
          name: "Error",
          message: `worker threads cannot import ${file} (export ${exportName}): the thread ${why} while importing it`,
          stack: "",
        };
      }
      this.#settle(id, load);
    }
  }

  #settle(id: number, load: Load): void {
    if (load.waiting.size > 0) return;
    this.#loads.delete(id);
    if (!load.error) {
      load.resolve();
      return;
    }
    // Threads started later must not try it again.
    const at = this.specs.indexOf(load.spec);
    if (at >= 0) this.specs.splice(at, 1);
    load.reject(new Error(load.error.message));
  }
}
