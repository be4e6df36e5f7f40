import { Code } from "../src/code.js";
import { decideChunkFailure } from "./chunk-failure.js";
import type { ChunkSizer } from "./chunk-sizer.js";
import type { Chunk, ChunkAnswers, MapFlight } from "./map-flight.js";
import type { MapLanes } from "./map-lanes.js";
import type { MapOutbox } from "./map-outbox.js";
import type { Job, MapWindow } from "./map-window.js";
import type { MethodDescriptions } from "./method-descriptions.js";
import type { PoolMethod } from "./pool-method.js";
import { RemoteError, toRemoteError } from "./remote-error.js";
import type { BatchOutcome } from "./session-call.js";

/** The parts of a map its answers act on. */
export interface AnswerParts {
  readonly method: PoolMethod;
  /** Times an item is sent again after its node failed. */
  readonly retries: number;
  readonly sizer: ChunkSizer;
  readonly window: MapWindow;
  readonly flight: MapFlight;
  readonly lanes: MapLanes;
  readonly descriptions: MethodDescriptions;
  readonly outbox: MapOutbox;
  /** Whether the method may run an item twice, so items of a failed node can go again. */
  idempotent(): boolean;
  /** Sends more work: an answer frees a lane, and a failure may leave items to send again. */
  pump(): void;
}

/**
 * What a map does with each chunk's answer. An answered chunk completes its
 * items (the first copy of a straggler to answer wins; the other is
 * cancelled on its node). A chunk that failed as a whole is dealt with as
 * decideChunkFailure says: its node is marked down, backed off from, or
 * noted as lacking the method, and its items go again, to other nodes or one
 * by one, or fail. After a node's fault an item goes again only for an
 * idempotent method, and at most `retries` times.
 */
export class MapAnswers implements ChunkAnswers {
  readonly #parts: AnswerParts;

  constructor(parts: AnswerParts) {
    this.#parts = parts;
  }

  outcome(chunk: Chunk, job: Job, outcome: BatchOutcome): void {
    const { method, outbox } = this.#parts;
    const member = chunk.member;
    if (job.done) return;
    if (!outcome.ok) {
      member.failed();
      outbox.complete(job, member.target, { ok: false, error: outcome.error });
      return;
    }
    let value: unknown;
    try {
      value = method.result(outcome.value);
    } catch (err) {
      outbox.complete(job, member.target, { ok: false, error: toRemoteError(err) });
      return;
    }
    member.answered();
    outbox.complete(job, member.target, { ok: true, value });
  }

  done(chunk: Chunk): void {
    const { sizer, flight, outbox } = this.#parts;
    const member = chunk.member;
    const now = performance.now();
    member.heard(now);
    sizer.observe(chunk.jobs.length, now - chunk.sentAt);
    if (chunk.left > 0) {
      // The node said it was done without answering every item.
      const error = new RemoteError(
        Code.INTERNAL,
        `${member.target} answered ${chunk.jobs.length - chunk.left} results for ${chunk.jobs.length} calls`,
      );
      for (let i = 0; i < chunk.jobs.length; i++) {
        const job = chunk.jobs[i] as Job;
        if (chunk.answered[i] === 0 && !job.done) {
          outbox.complete(job, member.target, { ok: false, error });
        }
      }
    }
    // A straggler's copy lost the race: stop it on its node.
    if (chunk.twin?.open) flight.cancel(chunk.twin);
    this.#parts.pump();
  }

  fail(chunk: Chunk, error: RemoteError): void {
    const { lanes, descriptions, outbox } = this.#parts;
    if (outbox.ended) return;
    const member = chunk.member;
    const action = decideChunkFailure({
      code: error.code,
      nodeUp: member.state === "up",
      items: chunk.jobs.length,
      solo: chunk.jobs[0]?.solo === true,
    });
    switch (action) {
      case "node down": {
        member.failed();
        member.markDown(error);
        const why = member.error ?? error;
        this.#requeue(chunk, new RemoteError(Code.UNAVAILABLE, why.details, { cause: why }), true);
        break;
      }
      case "back off":
        lanes.backOff(member);
        this.#requeue(chunk, error, true);
        break;
      case "not here":
        descriptions.refuse(member, error);
        this.#requeue(chunk, error, false);
        break;
      case "one by one":
        for (const job of chunk.jobs) job.solo = true;
        this.#requeue(chunk, error, false);
        break;
      case "fail items":
        for (const job of chunk.jobs) {
          if (!job.done && job.live === 0) {
            member.failed();
            outbox.complete(job, member.target, { ok: false, error });
          }
        }
    }
    this.#parts.pump();
  }

  /**
   * Sends a failed chunk's items again (front of the line), or fails those
   * that cannot be. `fault`: the node failed them, so only an idempotent
   * method's items go again, each within its retries.
   */
  #requeue(chunk: Chunk, error: RemoteError, fault: boolean): void {
    const { method, retries, window, outbox } = this.#parts;
    const again: Job[] = [];
    for (const job of chunk.jobs) {
      if (job.done || job.live > 0) continue;
      if (fault && !this.#parts.idempotent()) {
        outbox.complete(job, chunk.member.target, {
          ok: false,
          error: new RemoteError(
            error.code,
            `${error.details} (not sent again: ${method.object}.${method.method} is not marked idempotent)`,
            { cause: error },
          ),
        });
      } else if (fault && job.faults >= retries) {
        outbox.complete(job, chunk.member.target, { ok: false, error });
      } else {
        if (fault) job.faults++;
        again.push(job);
        outbox.tally.retries++;
      }
    }
    window.again(again);
  }
}
