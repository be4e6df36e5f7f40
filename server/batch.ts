import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
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
 * dispatches entry i, and may throw); `settled(i, result)` hears each entry
 * as it ends, and the promise resolves once all have. One entry failing never
 * stops the others. With `yieldAfterMs`, entries that run synchronously for
 * longer than that together are followed by a turn of the event loop, so
 * those finished can be sent (and a cancel read) before the next starts.
 */
export async function runBatch(
  count: number,
  start: (i: number) => Outcome,
  settled: (i: number, result: EntryResult) => void,
  yieldAfterMs?: number,
): Promise<void> {
  let pending = count;
  let allSettled: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allSettled = resolve;
  });
  const settle = (i: number, result: EntryResult) => {
    settled(i, result);
    if (--pending === 0) allSettled();
  };
  let turnStarted = yieldAfterMs === undefined ? 0 : performance.now();
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
    if (yieldAfterMs !== undefined && i + 1 < count && performance.now() - turnStarted >= yieldAfterMs) {
      // Two hops: what the entries that ended queued (a flush of their
      // answers) runs in this turn's check phase, before the next entry starts.
      await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
      turnStarted = performance.now();
    }
  }
  if (count > 0) await done;
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
