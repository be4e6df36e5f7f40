/**
 * The items of a map, read lazily from an array, an iterable or an async
 * iterable. A sync input is read as the map takes items; an async one is
 * read ahead into a small buffer, one `next()` at a time. The map decides how
 * far ahead reading may go; nothing here reads past what it is asked for.
 */
export class MapInput {
  readonly #sync: Iterator<unknown> | undefined;
  readonly #async: AsyncIterator<unknown> | undefined;
  /** Items read and not yet taken. */
  readonly #ready: unknown[] = [];
  #done = false;
  #reading = false;
  #read = 0;
  /** How many items the input holds, when it is an array; undefined for other inputs. */
  readonly length: number | undefined;

  constructor(items: Iterable<unknown> | AsyncIterable<unknown>) {
    this.length = Array.isArray(items) ? items.length : undefined;
    if (items != null && typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      this.#async = (items as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    } else if (items != null && typeof (items as Iterable<unknown>)[Symbol.iterator] === "function") {
      this.#sync = (items as Iterable<unknown>)[Symbol.iterator]();
    } else {
      throw new TypeError("items must be an array, an iterable or an async iterable");
    }
  }

  /** Items read so far: the index the next one gets. */
  get read(): number {
    return this.#read;
  }

  /** Items read and waiting to be taken. */
  get ready(): number {
    return this.#ready.length;
  }

  /** True once the input has ended (or was closed) and every item read was taken. */
  get exhausted(): boolean {
    return this.#done && this.#ready.length === 0;
  }

  /** An async read is under way: whether more is coming is not known yet. */
  get reading(): boolean {
    return this.#reading;
  }

  /**
   * Up to `count` items, without waiting: buffered ones first, then, from a
   * sync input, new ones while `more()` allows. A sync input that throws
   * throws here.
   */
  take(count: number, more: () => boolean): unknown[] {
    const items = this.#ready.splice(0, count);
    const sync = this.#sync;
    while (sync && items.length < count && !this.#done && more()) {
      const next = sync.next();
      if (next.done) this.#done = true;
      else {
        this.#read++;
        items.push(next.value);
      }
    }
    return items;
  }

  /**
   * Whether the input has ended, reading one item ahead of a sync input to
   * know (it stays buffered for the next take). An async input answers once
   * its reads have caught up.
   */
  peekEnded(): boolean {
    if (this.#ready.length > 0) return false;
    if (this.#sync && !this.#done) this.#ready.push(...this.take(1, () => true));
    return this.exhausted;
  }

  /**
   * Reads an async input ahead while `want()` says so, calling `arrived()`
   * after each item and once at the end; `failed(err)` when the input throws.
   * Does nothing for a sync input or while a read is under way.
   */
  fill(want: () => boolean, arrived: () => void, failed: (err: unknown) => void): void {
    const input = this.#async;
    if (!input || this.#reading || this.#done || !want()) return;
    this.#reading = true;
    void (async () => {
      try {
        while (!this.#done && want()) {
          const next = await input.next();
          if (this.#done) break;
          if (next.done) {
            this.#done = true;
            break;
          }
          this.#read++;
          this.#ready.push(next.value);
          arrived();
        }
      } catch (err) {
        this.#done = true;
        failed(err);
      } finally {
        this.#reading = false;
      }
      arrived();
    })();
  }

  /** Stops reading and lets the input clean up (a generator's `finally` runs). */
  close(): void {
    this.#ready.length = 0;
    if (this.#done) return;
    this.#done = true;
    try {
      const closing = (this.#sync ?? this.#async)?.return?.();
      if (closing instanceof Promise) closing.catch(() => {});
    } catch {
      // The input's own cleanup failing changes nothing for the map.
    }
  }
}
