import { ChunkSizer } from "./chunk-sizer.js";
import { MapAnswers } from "./map-answers.js";
import { heldLoopFailure, noNodeCanTakeWork } from "./map-failure.js";
import { type Chunk, MapFlight } from "./map-flight.js";
import { MapLanes } from "./map-lanes.js";
import { type Completion, checkMapOptions, type MapOptions } from "./map-options.js";
import { MapOutbox } from "./map-outbox.js";
import { raceStragglers } from "./map-stragglers.js";
import type { MapStats } from "./map-tally.js";
import { type Job, MapWindow } from "./map-window.js";
import { MethodDescriptions } from "./method-descriptions.js";
import type { PoolMember } from "./pool-member.js";
import type { PoolMethod } from "./pool-method.js";
import { abortedBy, type RemoteError, toRemoteError } from "./remote-error.js";

/** What a run needs from its pool. */
export interface RunHost {
  /** The nodes now; the list changes as nodes join and leave. */
  readonly members: readonly PoolMember[];
  /** The node list is not known yet (a registry or DNS name has not answered). */
  readonly resolving: boolean;
  /** The error for a map with no node at all. */
  noNodes(): RemoteError;
  readonly defaultTimeoutMs: number;
  /** The run has started (`true`) or ended (`false`): the pool watches running ones. */
  track(run: MapRun, active: boolean): void;
}

/** A node that has said nothing for this long while holding work is asked whether it is alive. */
export const HANG_CHECK_AFTER_MS = 750;

/**
 * One map over a pool: pulls items lazily, packs them into chunks, keeps
 * every node's slots busy (a node gets more work when it returns some), sends
 * a failed node's items to the others, races copies of stragglers at the
 * tail, and hands out each item's completion exactly once, in completion
 * order. Ordered delivery is built on top by the pool (map-results.ts).
 *
 * The run drives its parts: the window reads the input ({@link MapWindow}),
 * Describe tells what the method is ({@link MethodDescriptions}), the lanes
 * pick a node and a chunk size ({@link MapLanes}), the flight holds the calls
 * ({@link MapFlight}), their answers complete items or send them again
 * ({@link MapAnswers}), and the outbox hands completions to the consumer
 * ({@link MapOutbox}).
 */
export class MapRun {
  readonly #host: RunHost;
  readonly #method: PoolMethod;
  readonly #options: MapOptions;
  readonly #sizer: ChunkSizer;
  readonly #window: MapWindow;
  readonly #flight: MapFlight;
  readonly #lanes: MapLanes;
  readonly #answers: MapAnswers;
  readonly #descriptions: MethodDescriptions;
  readonly #outbox: MapOutbox;
  #started = false;
  #startedAt = 0;
  #pumping = false;
  #pumpAgain = false;
  readonly #onAbort = () => this.#abort();

  constructor(
    host: RunHost,
    method: PoolMethod,
    input: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions,
  ) {
    this.#host = host;
    this.#method = method;
    this.#options = options;
    const { timeoutMs, retries } = checkMapOptions(options, host.defaultTimeoutMs);
    this.#descriptions = new MethodDescriptions(method, timeoutMs, () => this.#pump());
    this.#sizer = new ChunkSizer(options.chunkSize);
    this.#window = new MapWindow(input);
    this.#outbox = new MapOutbox(this.#window, options, () => this.#end());
    this.#flight = new MapFlight(method, timeoutMs, {
      outcome: (chunk, job, outcome) => this.#answers.outcome(chunk, job, outcome),
      done: (chunk) => this.#answers.done(chunk),
      fail: (chunk, error) => this.#answers.fail(chunk, error),
    });
    this.#lanes = new MapLanes({
      host,
      concurrency: options.concurrency,
      length: this.#window.length,
      sizer: this.#sizer,
      descriptions: this.#descriptions,
      flight: this.#flight,
    });
    this.#answers = new MapAnswers({
      method,
      retries,
      sizer: this.#sizer,
      window: this.#window,
      flight: this.#flight,
      lanes: this.#lanes,
      descriptions: this.#descriptions,
      outbox: this.#outbox,
      idempotent: () => this.#idempotent,
      pump: () => this.#pump(),
    });
  }

  /**
   * Completions available now, in the order they finished; waits when there
   * are none yet. Undefined once every item has been handed out. Throws when
   * the map as a whole failed (aborted, no node left).
   */
  take(): Promise<Completion[] | undefined> {
    this.#start();
    return this.#outbox.take();
  }

  /**
   * The consumer has handed `count` more items to its caller. Items pulled
   * but not yet handed out stay within the window ({@link MapWindow}), so a slow
   * consumer (or one waiting for an early item, to keep order) pauses the map.
   */
  consumed(count: number): void {
    if (this.#window.consumed(count)) this.#pump();
  }

  /** Ends the map early: every call in flight is cancelled on its node. */
  stop(): void {
    this.#end();
  }

  /** Fails the map with `error` (the pool closed under it); calls in flight are cancelled. */
  cancel(error: RemoteError): void {
    this.#end(error);
  }

  /** What the map has done so far and holds now (see `pool.maps()`). */
  stats(): MapStats {
    const { tally } = this.#outbox;
    const inFlight = this.#flight.itemsByNode();
    const targets = new Set([...tally.byNode.keys(), ...inFlight.keys()]);
    targets.delete("");
    let done = 0;
    let failed = 0;
    for (const counts of tally.byNode.values()) {
      done += counts.done;
      failed += counts.failed;
    }
    return {
      method: `${this.#method.object}.${this.#method.method}`,
      total: this.#window.length,
      done,
      failed,
      queued: this.#window.queued,
      inFlight: this.#flight.items,
      retries: tally.retries,
      speculative: tally.speculative,
      nodes: [...targets].map((target) => ({
        target,
        done: tally.byNode.get(target)?.done ?? 0,
        failed: tally.byNode.get(target)?.failed ?? 0,
        inFlight: inFlight.get(target) ?? 0,
      })),
      seconds: this.#started ? (performance.now() - this.#startedAt) / 1000 : 0,
    };
  }

  /** Called by the pool a few times a second while the run is active. */
  tick(): void {
    if (this.#ended) return;
    const now = performance.now();
    for (const member of this.#flight.holding()) {
      if (now - member.lastHeard > HANG_CHECK_AFTER_MS) void member.checkAlive();
    }
    this.#pump();
  }

  /** A node came up or went down. */
  membersChanged(): void {
    const held = heldLoopFailure(this.#host.members, this.#method, this.#startedAt);
    if (held && !this.#ended) {
      this.#end(held);
      return;
    }
    this.#pump();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#startedAt = performance.now();
    const signal = this.#options.signal;
    if (signal?.aborted) {
      this.#abort();
      return;
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#host.track(this, true);
    this.#pump();
  }

  get #idempotent(): boolean {
    return this.#options.idempotent ?? this.#descriptions.description?.idempotent ?? false;
  }

  #pump(): void {
    if (!this.#started) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#dispatch();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #dispatch(): void {
    if (this.#ended) return;
    if (!this.#descriptions.warmedUp(this.#host.members, this.#host.resolving)) {
      this.#finishOrGiveUp();
      return;
    }
    this.#lanes.resize();
    for (;;) {
      const member = this.#lanes.pick();
      if (!member) break;
      const jobs = this.#takeJobs();
      if (jobs.length === 0) break;
      this.#send(member, jobs);
      if (this.#ended) return;
    }
    this.#pullAsync();
    this.#speculate();
    this.#finishOrGiveUp();
  }

  /** The next chunk's items: those to send again first, then new ones, within the window. */
  #takeJobs(): Job[] {
    const room = this.#lanes.room();
    if (room === 0) return [];
    try {
      return this.#window.take(room);
    } catch (err) {
      this.#end(err);
      return [];
    }
  }

  /** Keeps items from an async input ready, up to two chunks ahead and within the window. */
  #pullAsync(): void {
    this.#window.readAhead(
      () => this.#lanes.size,
      () => !this.#ended,
      () => this.#pump(),
      (err) => this.#end(err),
    );
  }

  #send(member: PoolMember, jobs: Job[], twin?: Chunk): void {
    const calls: unknown[][] = [];
    const sent: Job[] = [];
    for (const job of jobs) {
      try {
        calls.push(this.#method.args(job.item));
        sent.push(job);
      } catch (err) {
        this.#outbox.complete(job, "", { ok: false, error: toRemoteError(err) });
      }
    }
    if (sent.length > 0) this.#flight.send(member, sent, calls, twin);
  }

  /** At the tail of a map of an idempotent method, races copies of stragglers on idle nodes. */
  #speculate(): void {
    if (this.#ended || !this.#window.drained || !this.#idempotent) return;
    raceStragglers(this.#flight, this.#lanes, this.#sizer.averageMs, (idle, straggler) => {
      this.#outbox.tally.speculative++;
      this.#send(
        idle,
        straggler.jobs.filter((job) => !job.done),
        straggler,
      );
    });
  }

  /** Ends the run once every item is out, or fails it when no node can take the rest. */
  #finishOrGiveUp(): void {
    if (this.#ended) return;
    // Once every item read has completed, the map is done if the input has ended too (one item ahead).
    let finished: boolean | undefined;
    try {
      finished = this.#window.finished();
    } catch (err) {
      this.#end(err);
      return;
    }
    if (finished === undefined) return;
    if (finished) {
      this.#end();
      return;
    }
    const stuck = noNodeCanTakeWork(this.#host, this.#descriptions);
    if (stuck) this.#end(stuck);
  }

  #abort(): void {
    this.#end(abortedBy(this.#options.signal, "the map"));
  }

  /**
   * Ends the run, failed as a whole with `failure` when one is given: stops
   * everything in flight, releases the input, and lets the consumer see the end.
   */
  #end(failure?: unknown): void {
    if (!this.#outbox.end(failure)) return;
    this.#flight.cancelAll();
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#host.track(this, false);
    this.#window.close();
  }

  get #ended(): boolean {
    return this.#outbox.ended;
  }
}
