import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import type { Outcome } from "./dispatch.js";

/** How one entry of a batch ended. */
export type EntryResult = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Most entries in one Batch: a pool's chunks stay far below it. */
export const MAX_BATCH_CALLS = 10_000;

/** Most items a streaming method may yield to one batch entry, which answers them as one list. */
export const MAX_BATCH_STREAM_ITEMS = 100_000;

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

async function collect(items: AsyncIterable<unknown>): Promise<unknown[]> {
  const list: unknown[] = [];
  for await (const item of items) {
    if (list.length >= MAX_BATCH_STREAM_ITEMS) {
      throw new ServerError(
        Code.RESOURCE_EXHAUSTED,
        `a batch entry's stream yielded more than ${MAX_BATCH_STREAM_ITEMS} items; call it on its own to stream them`,
      );
    }
    list.push(item);
  }
  return list;
}
