import { Code } from "../src/code.js";
import type { Batch, CallError, Outcome, ServerMessage } from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import { type CallSpan, incomingSpan, inSpan } from "../src/trace-context.js";
import { decodeArgs, ListPath } from "../src/value-lists.js";
import { MAX_BATCH_CALLS, runBatch } from "./batch.js";
import { BatchAnswers } from "./batch-answers.js";
import type { MethodStats } from "./call-stats.js";
import { dispatch } from "./dispatch.js";
import type { HandlerContext } from "./handlers.js";
import type { BoundCall, ResolvedCall } from "./object-host.js";
import type { AdmittedCall } from "./session-calls.js";
import { EncodedMessage } from "./session-outbox.js";
import type { SessionRefs } from "./session-refs.js";
import { packArgs, workerArgRefs } from "./workers/worker-objects.js";

/** What a batch needs from the session it came in. */
export interface BatchSession {
  ctx: HandlerContext;
  refs: SessionRefs;
  peer(): string;
  /** The batch's object and method, resolved (again for each entry of a per-call object); throws when unknown. */
  resolve(): ResolvedCall;
  statsOf(resolved: ResolvedCall): MethodStats;
  isPerCall(object: string): boolean;
  callError(path: string, err: unknown): CallError;
  /** Queues a message; what is queued in one turn of the event loop leaves as one frame. */
  send(message: ServerMessage | EncodedMessage): void;
}

/**
 * Runs every entry of a session's batch and answers them: together, or as
 * they end when the caller streams its outcomes (BatchAnswers). Entries of
 * an object that runs on the event loop start one after another here, in one
 * turn; those of one that runs in worker threads go to a thread as one task,
 * which sends its answers back the same way. An unknown object or method,
 * too many entries, a cancel or the deadline fail the batch as a whole
 * (every entry not answered before).
 */
export function runSessionBatch(batch: Batch, admitted: AdmittedCall, session: BatchSession): void {
  const { id } = batch;
  const { cancellation, context, done, refusal, startedAt } = admitted;
  const path = `${batch.object ?? batch.refId}.${batch.method}`;
  const { observer } = session.ctx;
  const count = batch.calls.length;
  let stats = observer.unknown;
  let span: CallSpan | undefined;
  const answers = new BatchAnswers({
    id,
    count,
    stream: batch.streamOutcomes,
    refs: session.refs,
    fail: (err) => session.callError(path, err),
    send: (batchResult) => {
      session.send({ batchResult });
      if (!batchResult.error) entriesEnded(session, stats, batchResult.outcomes, startedAt);
      // Every entry not answered failed with the batch.
      else if (!refusal) {
        observer.ended(stats, batchResult.error.code, startedAt, session.peer(), count - answers.sent);
      }
    },
  });
  const fail = (err: unknown) => {
    const error = session.callError(path, err);
    span?.end(error.code, error.message);
    answers.fail(error);
  };
  try {
    if (refusal) throw refusal;
    if (count > MAX_BATCH_CALLS) {
      throw new ServerError(
        Code.INVALID_ARGUMENT,
        `calls: at most ${MAX_BATCH_CALLS} entries in one batch, got ${count}`,
        { field: "calls" },
      );
    }
    // An unknown object or method fails the batch as a whole, before any entry runs.
    const first = session.resolve();
    stats = session.statsOf(first);
    span = incomingSpan(batch.traceparent, stats.object, stats.method, count);
    // Entries decode one after another: `entry.index` is the one being decoded.
    const entry = new ListPath("calls");
    const argsPath = new ListPath(".args", entry);
    if (first.where === "workers") {
      // One task for the whole batch; its entries' arguments decode here.
      const refs = workerArgRefs(path);
      const entries = new Array<unknown[]>(count);
      for (let i = 0; i < count; i++) {
        entry.index = i;
        entries[i] = decodeArgs(batch.calls[i]?.args ?? [], argsPath, refs);
      }
      const partial = batch.streamOutcomes
        ? (bytes: Uint8Array) => {
            if (!cancellation.aborted) session.send(new EncodedMessage(bytes, id, "batchResult"));
          }
        : undefined;
      session.ctx.workers
        .batch(first, packArgs(entries), context, id, partial)
        .then(({ bytes, failed }) => {
          if (cancellation.aborted) throw cancellation.reason;
          session.send(new EncodedMessage(bytes, id, "batchResult"));
          span?.end(Code.OK);
          // The thread encoded the outcomes and said which entries failed.
          const peer = session.peer();
          for (const code of failed) observer.ended(stats, code, startedAt, peer);
          if (count > failed.length) observer.ended(stats, Code.OK, startedAt, peer, count - failed.length);
        })
        .catch(fail)
        .finally(done);
      return;
    }
    const percall = session.isPerCall(first.object);
    const began = performance.now();
    const running = inSpan(span, () =>
      runBatch(
        count,
        (i) => {
          entry.index = i;
          const resolved = i === 0 || !percall ? first : session.resolve();
          const args = decodeArgs(batch.calls[i]?.args ?? [], argsPath, session.refs);
          return dispatch(resolved as BoundCall, args, context);
        },
        // A cancelled batch answers nothing more than what had ended.
        (i, result) => {
          if (!cancellation.aborted) answers.settle(i, result);
        },
      ),
    );
    // The entries started synchronously, in this turn: that is how long the batch held the loop.
    session.ctx.loopWatch.held(first, performance.now() - began);
    void running
      .then(() => {
        if (cancellation.aborted) throw cancellation.reason;
        span?.end(Code.OK);
      })
      .catch(fail)
      .finally(done);
  } catch (err) {
    fail(err);
    done();
  }
}

/** Observes entries answered together: the ones that failed one by one, the rest at once. */
function entriesEnded(
  session: BatchSession,
  stats: MethodStats,
  outcomes: readonly Outcome[],
  startedAt: number,
): void {
  const { observer } = session.ctx;
  const peer = session.peer();
  let ok = 0;
  for (const outcome of outcomes) {
    if (outcome.error) observer.ended(stats, outcome.error.code, startedAt, peer);
    else ok++;
  }
  if (ok > 0) observer.ended(stats, Code.OK, startedAt, peer, ok);
}
