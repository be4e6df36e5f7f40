import { MapInput } from "./map-input.js";

/** Items pulled ahead of their consumer, at most: bounds memory whatever the input's size. */
export const WINDOW_ITEMS = 32_768;

/** One item of a map, from the moment it is read until it completes. */
export interface Job {
  index: number;
  item: unknown;
  /** Node failures this item has been through. */
  faults: number;
  /** Calls carrying it now (two while a straggler's copy races). */
  live: number;
  done: boolean;
  /** Send it alone: the chunk it was in failed as a whole. */
  solo: boolean;
}

/**
 * The items of a map between its input and its consumer. Items are read no
 * further than {@link WINDOW_ITEMS} ahead of what the consumer has taken, so
 * a slow consumer (or one waiting for an early item, to keep order) pauses
 * the map. Each item read is numbered, handed out for sending (those to send
 * again first), and counted until it completes.
 */
export class MapWindow {
  readonly #input: MapInput;
  #nextIndex = 0;
  #handedOut = 0;
  /** Items read that have not completed. */
  #incomplete = 0;
  readonly #again: Job[] = [];

  /** Throws a TypeError when `items` is neither iterable nor async iterable. */
  constructor(items: Iterable<unknown> | AsyncIterable<unknown>) {
    this.#input = new MapInput(items);
  }

  /** How many items the input holds, when it is an array. */
  get length(): number | undefined {
    return this.#input.length;
  }

  /** Items read that wait to be sent again. */
  get queued(): number {
    return this.#again.length;
  }

  /** No item is left to send: the input has ended and none waits to be sent again. */
  get drained(): boolean {
    return this.#input.exhausted && this.#again.length === 0;
  }

  /** Whether reading may go on: items read and not yet handed to the consumer are within the window. */
  get hasRoom(): boolean {
    return this.#input.read - this.#handedOut < WINDOW_ITEMS;
  }

  /** The consumer has handed `count` more items to its caller; true when the window has room. */
  consumed(count: number): boolean {
    this.#handedOut += count;
    return this.hasRoom;
  }

  /**
   * The next chunk's items, at most `room`: one sent alone after its chunk
   * was refused as a whole, else those to send again first, then new ones,
   * within the window. Throws when a sync input does.
   */
  take(room: number): Job[] {
    const first = this.#again[0];
    if (first?.solo) return [this.#again.shift() as Job];
    const jobs: Job[] = [];
    while (jobs.length < room && this.#again.length > 0 && !this.#again[0]?.solo) {
      jobs.push(this.#again.shift() as Job);
    }
    if (jobs.length < room) {
      for (const item of this.#input.take(room - jobs.length, () => this.hasRoom)) {
        this.#incomplete++;
        jobs.push({ index: this.#nextIndex++, item, faults: 0, live: 0, done: false, solo: false });
      }
    }
    return jobs;
  }

  /** Puts items back at the front of the line, to be sent before any other. */
  again(jobs: Job[]): void {
    this.#again.unshift(...jobs);
  }

  /** Marks an item done, letting go of it; false when it already was. */
  settle(job: Job): boolean {
    if (job.done) return false;
    job.done = true;
    job.item = undefined;
    this.#incomplete--;
    return true;
  }

  /**
   * Keeps items from an async input ready, up to two chunks of `size()`
   * ahead and within the window, while `going()`; `more()` once a chunk's
   * worth is ready or the reading stops, `failed(err)` when the input throws.
   */
  readAhead(
    size: () => number,
    going: () => boolean,
    more: () => void,
    failed: (err: unknown) => void,
  ): void {
    const input = this.#input;
    input.fill(
      () => going() && input.ready < Math.max(size() * 2, 64) && this.hasRoom,
      () => {
        if (input.ready >= size() || !input.reading) more();
      },
      failed,
    );
  }

  /**
   * Whether every item has completed and the input has ended (reading one
   * item ahead of a sync input to know); undefined while an async read is
   * under way and nothing can be said yet. Throws when a sync input does.
   */
  finished(): boolean | undefined {
    if (this.#incomplete > 0 || this.#again.length > 0) return false;
    if (this.#input.reading) return undefined;
    return this.#input.peekEnded();
  }

  /** Stops reading and lets the input clean up. */
  close(): void {
    this.#input.close();
  }
}
