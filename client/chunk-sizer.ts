/** Most items in one chunk: ~1 frame of small values, far below the message size limit. */
export const MAX_CHUNK_ITEMS = 2048;

/**
 * Time one chunk should take, in milliseconds: long enough that its round
 * trip is a small part of it, short enough that no slot waits long for work
 * another node is sitting on.
 */
const TARGET_CHUNK_MS = 10;

/**
 * Chunks each slot gets at least when the map's length is known: a short
 * map of heavy items goes one item per call even when its first answers were
 * quick, so no slot is left holding a bundle of long ones at the tail.
 */
export const CHUNKS_PER_SLOT = 8;

/** How fast the memory of a slow item fades, per chunk. */
const FORGET = 0.8;

/** A chunk twice as big taking at most this much longer ran its items side by side. */
const OVERLAP = 1.25;

/**
 * Picks how many items travel in one call. A fixed size when the caller
 * gives one; otherwise it sizes chunks to take about {@link TARGET_CHUNK_MS}
 * from what items cost so far. It starts at 1 (safe for heavy items), and
 * its estimate of an item's cost is a fading maximum rather than an average:
 * one slow item among fast ones brings chunks back to one item at once, so
 * heavy items are never bundled and left on one node while others idle.
 */
export class ChunkSizer {
  readonly #fixed: boolean;
  #size: number;
  /** Estimated cost of one item, in milliseconds; 0 before the first answer. */
  #itemMs = 0;
  /** Smoothed round trip of a chunk, in milliseconds. */
  #averageMs = 0;
  /** The chunk answered before the last one. */
  #last: { items: number; ms: number } | undefined;

  constructor(fixed?: number) {
    if (fixed !== undefined && (!Number.isInteger(fixed) || fixed < 1 || fixed > MAX_CHUNK_ITEMS)) {
      throw new RangeError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_ITEMS}, got ${fixed}`);
    }
    this.#fixed = fixed !== undefined;
    this.#size = fixed ?? 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Whether the caller fixed the size. */
  get fixed(): boolean {
    return this.#fixed;
  }

  /**
   * The size for the next chunk of a map of `length` items (undefined when
   * not known) over `slots` slots: never so large that a slot would get fewer
   * than {@link CHUNKS_PER_SLOT} chunks. A fixed size is kept as given.
   */
  sizeFor(length: number | undefined, slots: number): number {
    if (this.#fixed || length === undefined) return this.#size;
    return Math.min(this.#size, Math.max(1, Math.floor(length / (Math.max(1, slots) * CHUNKS_PER_SLOT))));
  }

  /** Smoothed round trip of recent chunks; 0 before the first. */
  get averageMs(): number {
    return this.#averageMs;
  }

  /** Learns from a chunk of `items` that took `ms` from send to answer. */
  observe(items: number, ms: number): void {
    this.#averageMs = this.#averageMs === 0 ? ms : 0.8 * this.#averageMs + 0.2 * ms;
    if (this.#fixed || items === 0) return;
    const before = this.#last;
    this.#last = { items, ms };
    // A bigger chunk that took no longer than a smaller one: its items ran
    // side by side (async methods), so what one costs is what this one says,
    // not the memory of a chunk that carried fewer.
    const overlapped = before !== undefined && items >= 2 * before.items && ms <= before.ms * OVERLAP;
    this.#itemMs = overlapped ? ms / items : Math.max(this.#itemMs * FORGET, ms / items);
    const fit = Math.floor(TARGET_CHUNK_MS / Math.max(this.#itemMs, 1e-6));
    // Grow at most 4x per answer, so one lucky chunk does not overshoot.
    this.#size = Math.max(1, Math.min(fit, this.#size * 4, MAX_CHUNK_ITEMS));
  }
}
