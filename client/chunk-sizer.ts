/** Most items in one chunk: ~1 frame of small values, far below the message size limit. */
export const MAX_CHUNK_ITEMS = 2048;

/**
 * Time one chunk should take, in milliseconds, when its items run one after
 * another: long enough that its round trip is a small part of it, short
 * enough that no slot waits long for work another node is sitting on.
 */
const TARGET_CHUNK_MS = 10;

/**
 * Chunks each lane (a call a node may hold at once) gets at least when the
 * map's length is known, before anything is known of its items: no lane is
 * left holding a bundle of long items at the tail, and the map can start at
 * that size at once.
 */
export const CHUNKS_PER_LANE = 4;

/**
 * The same once answers have told what items cost, whose chunks then take
 * about {@link TARGET_CHUNK_MS} of a node's time. Items that run side by side
 * take about one item's time per chunk whatever its size, so each chunk more
 * per lane would be one item's time more for the whole map.
 */
export const SIZED_CHUNKS_PER_LANE = 2;

/**
 * Most items in a map's first chunks, before any answer: the first results
 * come back after one item's time and a round trip, whatever the map's
 * length, and answers tell what items cost before chunks grow further.
 */
const FIRST_CHUNK_ITEMS = 512;

/** How fast the memory of a slow item fades, per chunk. */
const FORGET = 0.8;

/** Most a chunk grows over the one just answered, so one lucky chunk does not overshoot. */
const GROWTH = 4;

/** Chunks quicker than this grow by {@link GROWTH} while all recent ones were of one size. */
const PROBE_BELOW_MS = 25;

/** Recent chunks the cost of an item is worked out from. */
const RECENT = 16;

/**
 * Picks how many items travel in one call. A fixed size when the caller
 * gives one. Otherwise a map of known length starts with chunks as big as
 * its length allows (each lane gets {@link CHUNKS_PER_LANE} chunks), up to
 * {@link FIRST_CHUNK_ITEMS}, so its nodes are busy from the first call; one
 * of unknown length starts at 1 (safe for heavy items).
 *
 * Answers then tell what an item adds to a chunk's time: the slope of time
 * against items over recent chunks, a line through their round trip and
 * whatever wait each item has. Chunks get as many items as that cost fits in
 * {@link TARGET_CHUNK_MS}. Items that run one after another (CPU-bound)
 * cost their own time; items that run side by side (async methods) cost
 * little more than the node's bookkeeping, so their chunks grow until the
 * node's time shows. The cost is a fading maximum rather than an average,
 * and an item that alone takes longer than the target counts whole: one
 * slow item among fast ones brings chunks back to one item at once, so
 * heavy items are never bundled and left on one node while others idle.
 * While recent chunks were all of one size, a quick one is followed by one
 * four times as big, which tells the slope sooner.
 */
export class ChunkSizer {
  readonly #fixed: boolean;
  #size: number;
  #observed = false;
  /** Estimated cost of one item, in milliseconds; 0 before the first answer. */
  #itemMs = 0;
  /** Whether that is only a bound (a chunk's time over its items): no slope has been found yet. */
  #bound = true;
  /** Smoothed round trip of a chunk, in milliseconds. */
  #averageMs = 0;
  /** Recent chunks, oldest first. */
  readonly #recent: { items: number; ms: number }[] = [];

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
   * not known) over `lanes` lanes: never so large that a lane would get
   * fewer than {@link CHUNKS_PER_LANE} chunks ({@link SIZED_CHUNKS_PER_LANE}
   * once answers have come), and that large from the start. A fixed size is
   * kept as given.
   */
  sizeFor(length: number | undefined, lanes: number): number {
    if (this.#fixed || length === undefined) return this.#size;
    const perLane = this.#observed ? SIZED_CHUNKS_PER_LANE : CHUNKS_PER_LANE;
    const most = Math.max(1, Math.floor(length / (Math.max(1, lanes) * perLane)));
    return Math.min(this.#observed ? this.#size : FIRST_CHUNK_ITEMS, most);
  }

  /** Smoothed round trip of recent chunks; 0 before the first. */
  get averageMs(): number {
    return this.#averageMs;
  }

  /** Learns from a chunk of `items` that took `ms` from send to answer. */
  observe(items: number, ms: number): void {
    this.#averageMs = this.#averageMs === 0 ? ms : 0.8 * this.#averageMs + 0.2 * ms;
    if (this.#fixed || items === 0) return;
    this.#observed = true;
    this.#recent.push({ items, ms });
    if (this.#recent.length > RECENT) this.#recent.shift();
    const slope = ms / items >= TARGET_CHUNK_MS ? undefined : this.#slope();
    // The first slope replaces a bound outright; after that, the cost fades.
    const faded = this.#bound && slope !== undefined ? 0 : this.#itemMs * FORGET;
    this.#itemMs = Math.max(faded, slope ?? ms / items);
    if (slope !== undefined) this.#bound = false;
    // While sizes have been too alike to tell the slope, a quick chunk grows all it may.
    const probe = slope === undefined && ms < PROBE_BELOW_MS;
    const next = probe
      ? items * GROWTH
      : Math.min(Math.floor(TARGET_CHUNK_MS / Math.max(this.#itemMs, 1e-6)), items * GROWTH);
    this.#size = Math.max(1, Math.min(next, MAX_CHUNK_ITEMS));
  }

  /**
   * What one more item adds to a chunk's time, by least squares over recent
   * chunks; undefined while their sizes differ too little to tell (the
   * biggest less than twice the smallest).
   */
  #slope(): number | undefined {
    let least = Number.POSITIVE_INFINITY;
    let most = 0;
    let items = 0;
    let ms = 0;
    for (const chunk of this.#recent) {
      least = Math.min(least, chunk.items);
      most = Math.max(most, chunk.items);
      items += chunk.items;
      ms += chunk.ms;
    }
    if (most < 2 * least) return undefined;
    const n = this.#recent.length;
    const meanItems = items / n;
    const meanMs = ms / n;
    let covariance = 0;
    let variance = 0;
    for (const chunk of this.#recent) {
      covariance += (chunk.items - meanItems) * (chunk.ms - meanMs);
      variance += (chunk.items - meanItems) ** 2;
    }
    // A bigger chunk never costs less: a negative slope is noise around none.
    return Math.max(covariance / variance, 0);
  }
}
