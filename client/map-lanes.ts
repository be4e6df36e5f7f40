import type { MethodDescription } from "../src/gen/ferry/v1/objects.js";
import type { ChunkSizer } from "./chunk-sizer.js";
import type { MapFlight } from "./map-flight.js";
import type { MethodDescriptions } from "./method-descriptions.js";
import type { PoolMember } from "./pool-member.js";

/** Calls quicker than this, in milliseconds, get a queued extra per node to hide the round trip. */
const QUEUE_BELOW_MS = 20;

/** How long a node that answered RESOURCE_EXHAUSTED gets no new work. */
const BACKOFF_MS = 100;

/** Chunks in flight per node an I/O-bound map aims for. */
const IO_CHUNKS_PER_NODE = 8;

/** Most items in one chunk of an I/O-bound map: a chunk answers when its slowest item does. */
const MAX_IO_CHUNK = 64;

/** What lanes read of a map and its pool. */
export interface LaneParts {
  /** The pool's nodes now. */
  readonly host: { readonly members: readonly PoolMember[] };
  /** The map's `concurrency` option: most items in flight across the pool. */
  readonly concurrency: number | undefined;
  /** How many items the input holds, when known. */
  readonly length: number | undefined;
  readonly sizer: ChunkSizer;
  readonly descriptions: MethodDescriptions;
  readonly flight: MapFlight;
}

/**
 * How a map spreads its calls over the nodes: how many calls of the map each
 * node may hold (its lanes), how many items each chunk carries, and which
 * node gets the next chunk: the usable one with the most room. A node that
 * answered RESOURCE_EXHAUSTED gets nothing for {@link BACKOFF_MS}.
 */
export class MapLanes {
  readonly #parts: LaneParts;
  readonly #paused = new Map<PoolMember, number>();
  /** Items in the next chunk, worked out at the start of each dispatch pass. */
  #size = 1;

  constructor(parts: LaneParts) {
    this.#parts = parts;
  }

  /** Items in the next chunk, as the last {@link resize} found. */
  get size(): number {
    return this.#size;
  }

  /** Works out the chunk size, once per dispatch pass: it reads every node, and every node's lanes depend on it. */
  resize(): void {
    this.#size = this.#chunkSize();
  }

  /** Items the next chunk may carry: the pass's size, within the map's `concurrency`; 0 when none. */
  room(): number {
    const { concurrency, flight } = this.#parts;
    if (concurrency === undefined) return this.#size;
    const room = Math.min(this.#size, concurrency - flight.items);
    return room > 0 ? room : 0;
  }

  /** The usable node with the most room, or undefined when none has any. */
  pick(): PoolMember | undefined {
    const { host, descriptions, flight } = this.#parts;
    let best: PoolMember | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (const member of host.members) {
      if (member.state !== "up") continue;
      const described = descriptions.usable(member);
      if (!described) continue;
      if ((this.#paused.get(member) ?? 0) > now) continue;
      const running = flight.running(member);
      if (running >= this.#lanes(member, described)) continue;
      const load = (member.inFlight + 1) / member.slots;
      if (load < bestLoad) {
        best = member;
        bestLoad = load;
      }
    }
    return best;
  }

  /** A usable node running fewer calls of the map than it has room for: somewhere a copy starts at once. */
  idle(): PoolMember | undefined {
    const member = this.pick();
    if (!member || this.#parts.flight.running(member) >= this.capacity(member)) return undefined;
    return member;
  }

  /** Whether `member` holds more calls of the map than it runs at once: some wait behind its slots. */
  queued(member: PoolMember): boolean {
    return this.#parts.flight.running(member) > this.capacity(member);
  }

  /** `member` is overloaded: it gets no new work for a moment. */
  backOff(member: PoolMember): void {
    this.#paused.set(member, performance.now() + BACKOFF_MS);
  }

  /** Calls a node runs at once for this method: its declared concurrency, else its slots. */
  capacity(member: PoolMember): number {
    return this.#parts.descriptions.description?.concurrency || member.slots;
  }

  /** Calls of this method the usable nodes run at once. */
  #slots(): number {
    let slots = 0;
    for (const member of this.#parts.host.members) if (member.state === "up") slots += this.capacity(member);
    return Math.max(1, slots);
  }

  /** Calls of a CPU-bound map the usable nodes may hold at once: their lanes. */
  #laneCount(): number {
    const queued = this.#queued();
    let lanes = 0;
    for (const member of this.#parts.host.members) if (member.state === "up") lanes += member.slots + queued;
    return Math.max(1, lanes);
  }

  /**
   * Calls of the map a node may hold: its slots (or the method's
   * concurrency), plus one queued while calls are quick, so a slot never
   * idles for a round trip. Slow calls get no queued extra: an item waits
   * for the first slot free on any node rather than behind one on a busy
   * node (greedy list scheduling), which is what shortens a map's tail.
   */
  #lanes(member: PoolMember, method: MethodDescription): number {
    if (this.#parts.concurrency !== undefined) return Number.POSITIVE_INFINITY;
    // A declared concurrency counts calls: chunks of several items take several of them.
    const capacity = method.concurrency ? Math.ceil(method.concurrency / this.#size) : member.slots;
    return capacity + this.#queued();
  }

  /** Calls a node may hold queued behind its slots: one while calls are quick, so a slot never waits a round trip. */
  #queued(): number {
    return this.#parts.sizer.averageMs < QUEUE_BELOW_MS ? 1 : 0;
  }

  /**
   * Items in the next chunk. CPU-bound methods: what the sizer learned,
   * within the array's length. I/O-bound ones (a declared concurrency, or
   * the map's `concurrency`): a node runs a chunk's items at once, so each
   * chunk is a share of what may be in flight, about
   * {@link IO_CHUNKS_PER_NODE} per node, saving a message and a deadline
   * per item.
   */
  #chunkSize(): number {
    const { host, concurrency, length, sizer, descriptions } = this.#parts;
    const ioBound = concurrency !== undefined || (descriptions.description?.concurrency ?? 0) > 0;
    if (sizer.fixed || !ioBound) return sizer.sizeFor(length, this.#laneCount());
    let nodes = 0;
    for (const member of host.members) if (member.state === "up") nodes++;
    nodes = Math.max(1, nodes);
    const inFlight = concurrency ?? this.#slots();
    let size = Math.floor(inFlight / (nodes * IO_CHUNKS_PER_NODE));
    if (length !== undefined) size = Math.min(size, Math.floor(length / (nodes * IO_CHUNKS_PER_NODE)));
    return Math.max(1, Math.min(size, MAX_IO_CHUNK));
  }
}
