import type { Job } from "./map-window.js";
import type { PoolMember } from "./pool-member.js";
import type { PoolMethod } from "./pool-method.js";
import type { RemoteError } from "./remote-error.js";
import type { BatchOutcome } from "./session-call.js";

/** One call of a map: a chunk of items sent to one node as a batch. */
export interface Chunk {
  jobs: Job[];
  /** Which of `jobs` the node has answered (1), as its outcomes come. */
  answered: Uint8Array;
  /** Jobs not answered yet. */
  left: number;
  member: PoolMember;
  sentAt: number;
  open: boolean;
  cancel: () => void;
  /** The other copy of a straggler, racing on another node. */
  twin?: Chunk;
}

/**
 * Where a chunk's answers go: each item's outcome as it comes, the end of
 * the call, or the error that failed the call as a whole. It hears of a
 * chunk only while the chunk is in flight, and of each item once.
 */
export interface ChunkAnswers {
  /** The node answered the chunk's `job`. */
  outcome(chunk: Chunk, job: Job, outcome: BatchOutcome): void;
  /** The node answered the chunk's last item (or said it had). */
  done(chunk: Chunk): void;
  fail(chunk: Chunk, error: RemoteError): void;
}

/**
 * The calls of one map in flight: each chunk, the node it went to, how many
 * chunks each node holds, and how many items they carry. A chunk's items
 * come back as the node finishes them (Batch.stream_outcomes); an index the
 * chunk does not have, or one answered already, is dropped. A chunk leaves
 * flight once, when it is answered, fails or is cancelled, whichever comes
 * first; what arrives after that is dropped.
 */
export class MapFlight {
  readonly #method: PoolMethod;
  readonly #timeoutMs: number;
  readonly #answers: ChunkAnswers;
  readonly #chunks = new Set<Chunk>();
  readonly #perMember = new Map<PoolMember, number>();
  #items = 0;

  /** `timeoutMs` is each item's deadline; answers and failures go to `answers`. */
  constructor(method: PoolMethod, timeoutMs: number, answers: ChunkAnswers) {
    this.#method = method;
    this.#timeoutMs = timeoutMs;
    this.#answers = answers;
  }

  /** The chunks in flight, oldest first. */
  get chunks(): ReadonlySet<Chunk> {
    return this.#chunks;
  }

  /** Items in flight and not answered yet, counting each copy of a straggler. */
  get items(): number {
    return this.#items;
  }

  /** Items in flight on each node, straggler copies included. */
  itemsByNode(): Map<string, number> {
    const items = new Map<string, number>();
    for (const chunk of this.#chunks) {
      const target = chunk.member.target;
      items.set(target, (items.get(target) ?? 0) + chunk.left);
    }
    return items;
  }

  /** Chunks of this map `member` holds. */
  running(member: PoolMember): number {
    return this.#perMember.get(member) ?? 0;
  }

  /** The nodes holding at least one chunk, in the order they first got one. */
  *holding(): Iterable<PoolMember> {
    for (const [member, chunks] of this.#perMember) if (chunks > 0) yield member;
  }

  /**
   * Sends `jobs` to `member` as one batch of `calls`. With `twin`, the chunk
   * is a copy of that straggler, racing it; the first to answer wins.
   */
  send(member: PoolMember, jobs: Job[], calls: unknown[][], twin?: Chunk): void {
    const chunk: Chunk = {
      jobs,
      answered: new Uint8Array(jobs.length),
      left: jobs.length,
      member,
      sentAt: performance.now(),
      open: true,
      cancel: () => {},
    };
    if (twin) {
      chunk.twin = twin;
      twin.twin = chunk;
    }
    for (const job of jobs) job.live++;
    this.#items += jobs.length;
    this.#chunks.add(chunk);
    this.#perMember.set(member, this.running(member) + 1);
    member.began();
    // Each item gets its deadline; the chunk as a whole at most an hour, unless one item's is longer.
    const timeoutMs = Math.min(this.#timeoutMs * jobs.length, Math.max(this.#timeoutMs, 3_600_000));
    const cancel = member.session().batch(
      { object: this.#method.object },
      this.#method.method,
      calls,
      { timeoutMs, streamOutcomes: true },
      {
        outcomes: (outcomes, indexes) => this.#answered(chunk, outcomes, indexes),
        done: () => {
          if (this.#close(chunk)) this.#answers.done(chunk);
        },
        fail: (error) => {
          if (this.#close(chunk)) this.#answers.fail(chunk, error);
        },
      },
    );
    if (chunk.open) chunk.cancel = cancel;
  }

  /** Hands on the outcomes of a chunk's items (all of them in order, with no `indexes`). */
  #answered(chunk: Chunk, outcomes: BatchOutcome[], indexes: readonly number[]): void {
    // A node sending a long chunk's items as they end is alive: no need to ask.
    if (chunk.open) chunk.member.heard();
    const all = indexes.length === 0;
    for (let k = 0; k < outcomes.length && chunk.open; k++) {
      const i = all ? k : (indexes[k] as number);
      if (i >= chunk.jobs.length || chunk.answered[i] === 1) continue;
      chunk.answered[i] = 1;
      chunk.left--;
      this.#items--;
      this.#answers.outcome(chunk, chunk.jobs[i] as Job, outcomes[k] as BatchOutcome);
    }
  }

  /** Takes a chunk out of flight; false when it already was. */
  #close(chunk: Chunk): boolean {
    if (!chunk.open) return false;
    chunk.open = false;
    this.#chunks.delete(chunk);
    this.#items -= chunk.left;
    this.#perMember.set(chunk.member, (this.#perMember.get(chunk.member) ?? 1) - 1);
    chunk.member.ended();
    for (const job of chunk.jobs) job.live--;
    return true;
  }

  /** Cancels a chunk on its node; its failure is then ignored. */
  cancel(chunk: Chunk): void {
    if (!this.#close(chunk)) return;
    chunk.cancel();
  }

  /** Cancels every chunk in flight. */
  cancelAll(): void {
    for (const chunk of [...this.#chunks]) this.cancel(chunk);
  }
}
