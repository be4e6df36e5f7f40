import type { BatchResult, CallError, Outcome } from "../src/gen/ferry/v1/objects.js";
import { type RefCodec, toValue } from "../src/value-codec.js";
import { ListPath } from "../src/value-lists.js";
import type { EntryResult } from "./batch.js";

/** What a batch's answers need: where they go, and how values and errors are written. */
export interface BatchAnswerOptions {
  id: bigint;
  /** Entries in the batch. */
  count: number;
  /** The caller asked for outcomes as entries finish (Batch.stream_outcomes). */
  stream: boolean;
  /** How a result handed out by reference is written; undefined where none may be. */
  refs: RefCodec | undefined;
  /** An entry's error, or a value that cannot be sent, as the caller sees it. */
  fail(err: unknown): CallError;
  /** Sends one BatchResult. */
  send(result: BatchResult): void;
}

/**
 * A batch's answers on their way back, the same on the event loop and in a
 * worker thread. Unstreamed, one BatchResult carries every entry once the
 * last has ended. Streamed, the entries that end in one turn of the event
 * loop leave together in one partial BatchResult (so tiny entries still go
 * by the thousand per message), and the last entry's turn sends the rest as
 * the final one. A batch that fails as a whole sends what has finished, then
 * its error, which fails only the entries not answered.
 */
export class BatchAnswers {
  readonly #options: BatchAnswerOptions;
  /** Entries ended and not yet sent, and their indexes. */
  #results: EntryResult[] = [];
  #indexes: number[] = [];
  #sent = 0;
  #scheduled = false;
  #closed = false;

  constructor(options: BatchAnswerOptions) {
    this.#options = options;
  }

  /** Entries answered so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Entry `i` has ended. */
  settle(i: number, result: EntryResult): void {
    if (this.#closed) return;
    this.#results.push(result);
    this.#indexes.push(i);
    if (this.#sent + this.#results.length === this.#options.count) {
      this.#closed = true;
      this.#flush(false);
      return;
    }
    if (!this.#options.stream || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#closed && this.#results.length > 0) this.#flush(true);
    });
  }

  /** The batch failed as a whole with `error`: what has ended goes first (when streamed), and nothing after. */
  fail(error: CallError): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#options.stream && this.#results.length > 0) this.#flush(true);
    this.#options.send({ id: this.#options.id, outcomes: [], error, indexes: [], partial: false });
  }

  #flush(partial: boolean): void {
    let results = this.#results;
    let indexes = this.#indexes;
    this.#results = [];
    this.#indexes = [];
    // Every entry in one message goes in entry order, with no indexes: the unstreamed answer.
    const whole = this.#sent === 0 && !partial;
    if (whole) [results, indexes] = inEntryOrder(results, indexes);
    this.#sent += results.length;
    const { id, refs, fail, send } = this.#options;
    send({
      id,
      outcomes: outcomesOf(results, indexes, refs, fail),
      error: undefined,
      indexes: whole ? [] : indexes,
      partial,
    });
  }
}

/** Every entry's result, which `indexes` lists in the order they ended, in entry order. */
function inEntryOrder(results: EntryResult[], indexes: number[]): [EntryResult[], number[]] {
  let ordered = true;
  for (let k = 0; k < indexes.length && ordered; k++) ordered = indexes[k] === k;
  if (ordered) return [results, indexes];
  const sorted = new Array<EntryResult>(results.length);
  for (let k = 0; k < results.length; k++) sorted[indexes[k] as number] = results[k] as EntryResult;
  return [sorted, Array.from(sorted, (_, i) => i)];
}

/**
 * The BatchResult outcomes of entries `indexes`: each value encoded (with
 * `refs`, the path `results[i]` on a refusal), or its error described by
 * `fail`, a value that cannot be sent included.
 */
function outcomesOf(
  results: readonly EntryResult[],
  indexes: readonly number[],
  refs: RefCodec | undefined,
  fail: (err: unknown) => CallError,
): Outcome[] {
  const out = new Array<Outcome>(results.length);
  const path = new ListPath("results");
  for (let k = 0; k < results.length; k++) {
    const r = results[k] as EntryResult;
    if (!r.ok) {
      out[k] = { error: fail(r.error) };
      continue;
    }
    path.index = indexes[k] as number;
    try {
      out[k] = { value: toValue(r.value, path.at, refs) };
    } catch (err) {
      out[k] = { error: fail(err) };
    }
  }
  return out;
}
