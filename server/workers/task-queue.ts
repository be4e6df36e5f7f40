/** What the queue needs of a task. */
export interface Queued {
  /** Submission order. */
  seq: number;
  /** Answered while waiting (cancelled): skipped, never run. */
  answered: boolean;
}

/**
 * Tasks waiting for a worker thread: one shared line that any thread takes
 * from, and a line per thread for the actors living in it. A free thread
 * takes the oldest of its own line and the shared one.
 */
export class TaskQueue<T extends Queued, Thread> {
  #shared: T[] = [];
  #head = 0;
  readonly #pinned = new Map<Thread, T[]>();
  #size = 0;
  /** Answered tasks still in a line. */
  #forgotten = 0;

  /** Tasks waiting. */
  get size(): number {
    return this.#size;
  }

  /** Queues `task`, for any thread or for `pin` alone. */
  push(task: T, pin?: Thread): void {
    this.#size++;
    if (pin === undefined) {
      this.#shared.push(task);
      return;
    }
    const line = this.#pinned.get(pin);
    if (line) line.push(task);
    else this.#pinned.set(pin, [task]);
  }

  /**
   * A waiting task was answered (cancelled): it no longer counts, and is
   * skipped when its turn comes. Lines are swept once such tasks outnumber
   * the live ones, so calls cancelled in a loop cannot pile up here.
   */
  forget(): void {
    this.#size--;
    if (++this.#forgotten > 1024 && this.#forgotten > this.#size) this.#sweep();
  }

  /** Tasks waiting for `thread` alone. */
  pinnedTo(thread: Thread): number {
    return this.#pinned.get(thread)?.length ?? 0;
  }

  /** The next task for `thread`, taken out of its line. */
  next(thread: Thread): T | undefined {
    const own = this.#pinned.get(thread);
    while (own?.[0]?.answered) {
      own.shift();
      this.#forgotten--;
    }
    while (this.#shared[this.#head]?.answered) {
      this.#head++;
      this.#forgotten--;
    }
    const mine = own?.[0];
    const shared = this.#shared[this.#head];
    let task: T | undefined;
    if (mine && (!shared || mine.seq < shared.seq)) task = own?.shift();
    else if (shared) {
      task = shared;
      this.#shared[this.#head++] = undefined as never;
      // Reclaim the taken part of the line now and then.
      if (this.#head > 1024 && this.#head * 2 > this.#shared.length) {
        this.#shared = this.#shared.slice(this.#head);
        this.#head = 0;
      }
    }
    if (task) this.#size--;
    return task;
  }

  /** Takes out every task waiting for `thread` alone (it is gone). */
  drop(thread: Thread): T[] {
    const all = this.#pinned.get(thread) ?? [];
    const line = all.filter((task) => !task.answered);
    this.#pinned.delete(thread);
    this.#size -= line.length;
    this.#forgotten -= all.length - line.length;
    return line;
  }

  /** Takes out every waiting task. */
  clear(): T[] {
    const all = [...this.#shared.slice(this.#head), ...[...this.#pinned.values()].flat()].filter(
      (task) => task !== undefined && !task.answered,
    );
    this.#shared = [];
    this.#head = 0;
    this.#pinned.clear();
    this.#size = 0;
    this.#forgotten = 0;
    return all;
  }

  /** Takes answered tasks out of every line. */
  #sweep(): void {
    const live = (task: T | undefined) => task !== undefined && !task.answered;
    this.#shared = this.#shared.slice(this.#head).filter(live);
    this.#head = 0;
    for (const [thread, line] of this.#pinned) this.#pinned.set(thread, line.filter(live));
    this.#forgotten = 0;
  }
}
