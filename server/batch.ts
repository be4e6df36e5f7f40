import { Code } from "../src/code.js";
import type { CallError, Outcome as EntryOutcome } from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import { type RefCodec, toValue } from "../src/value-codec.js";
import { ListPath } from "../src/value-lists.js";
import type { Outcome } from "./dispatch.js";

/** How one entry of a batch ended. */
export type EntryResult = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Most entries in one Batch: a pool's chunks stay far below it. */
export const MAX_BATCH_CALLS = 10_000;

/**
 * Most items a streaming method may yield to a call that answers them as one
 * list: a batch entry, or a unary Invoke.
 */
export const MAX_COLLECTED_ITEMS = 100_000;

/**
 * Starts every entry of a batch at once (`start(i)` resolves, decodes and
 * dispatches entry i, and may throw) and resolves, once all have settled,
 * with each entry's result in order. One entry failing never stops the others.
 */
export function runBatch(count: number, start: (i: number) => Outcome): Promise<EntryResult[]> {
  const results = new Array<EntryResult>(count);
  let pending = count;
  return new Promise((resolve) => {
    if (count === 0) {
      resolve(results);
      return;
    }
    const settle = (i: number, result: EntryResult) => {
      results[i] = result;
      if (--pending === 0) resolve(results);
    };
    for (let i = 0; i < count; i++) {
      let outcome: Outcome;
      try {
        outcome = start(i);
      } catch (error) {
        settle(i, { ok: false, error });
        continue;
      }
      const value = outcome.kind === "value" ? outcome.value : collect(outcome.items);
      value.then(
        (v) => settle(i, { ok: true, value: v }),
        (error: unknown) => settle(i, { ok: false, error }),
      );
    }
  });
}

/** What a unary call's caller should do with a stream too long for one answer. */
export const THROUGH_A_SESSION = "call it through a session to stream them";

/**
 * A stream's items as one list, refused with RESOURCE_EXHAUSTED past
 * {@link MAX_COLLECTED_ITEMS}; `what` names the stream and `instead` says how to get all of it.
 */
export async function collect(
  items: AsyncIterable<unknown>,
  what = "a batch entry's stream",
  instead = "call it on its own to stream them",
): Promise<unknown[]> {
  const list: unknown[] = [];
  for await (const item of items) {
    if (list.length >= MAX_COLLECTED_ITEMS) {
      throw new ServerError(
        Code.RESOURCE_EXHAUSTED,
        `${what} yielded more than ${MAX_COLLECTED_ITEMS} items; ${instead}`,
      );
    }
    list.push(item);
  }
  return list;
}

/**
 * Each entry's answer in a BatchResult: its value encoded (with `refs`, the
 * path `results[i]` on a refusal), or its error described by `fail`, a value
 * that cannot be sent included.
 */
export function outcomesOf(
  results: readonly EntryResult[],
  refs: RefCodec | undefined,
  fail: (err: unknown) => CallError,
): EntryOutcome[] {
  const out = new Array<EntryOutcome>(results.length);
  const path = new ListPath("results");
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as EntryResult;
    if (!r.ok) {
      out[i] = { error: fail(r.error) };
      continue;
    }
    path.index = i;
    try {
      out[i] = { value: toValue(r.value, path.at, refs) };
    } catch (err) {
      out[i] = { error: fail(err) };
    }
  }
  return out;
}
