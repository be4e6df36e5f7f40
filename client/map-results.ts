/**
 * How a map's completions reach its caller: every result at once, in input
 * order (`map`); in input order as they come (`imap`); as they finish
 * (`imapUnordered`); or each completion as it is (`completions`). Each tells
 * the run how many items it handed on, so the run reads further; leaving
 * early (a throw, a break, the consumer's return) stops the run.
 */
import type { Completion, MapOptions } from "./map-options.js";
import type { MapRun } from "./map-run.js";

/** Every result in input order; with `errors: "throw"` (the default) the first failed item rejects. */
export async function collectResults(run: MapRun, options: MapOptions): Promise<unknown[]> {
  const throwing = (options.errors ?? "throw") === "throw";
  const results: unknown[] = [];
  for await (const batch of batchesOf(run)) {
    for (const c of batch) {
      if (!c.ok && throwing) throw c.error;
      // Completions arrive out of order; writing far past the end would turn
      // `results` into a slow dictionary-mode array, so fill up to the index first.
      while (results.length < c.index) results.push(undefined);
      results[c.index] = c.ok ? c.value : c.error;
    }
    run.consumed(batch.length);
  }
  return results;
}

/** Results in input order; the run starts, and a bad argument surfaces, at the first `next()`, like a rejected map. */
export async function* orderedResults(start: () => MapRun, options: MapOptions): AsyncGenerator<unknown> {
  const run = start();
  const throwing = (options.errors ?? "throw") === "throw";
  const held = new Map<number, Completion>();
  let next = 0;
  for await (const batch of batchesOf(run)) {
    for (const c of batch) {
      if (!c.ok && throwing) throw c.error;
      held.set(c.index, c);
    }
    let yielded = 0;
    for (let c = held.get(next); c !== undefined; c = held.get(next)) {
      held.delete(next++);
      yielded++;
      yield c.ok ? c.value : c.error;
    }
    run.consumed(yielded);
  }
}

/** Results as they finish, starting the run at the first `next()`. */
export async function* unorderedResults(start: () => MapRun, options: MapOptions): AsyncGenerator<unknown> {
  const run = start();
  const throwing = (options.errors ?? "throw") === "throw";
  for await (const batch of batchesOf(run)) {
    for (const c of batch) {
      if (!c.ok && throwing) throw c.error;
      yield c.ok ? c.value : c.error;
    }
    run.consumed(batch.length);
  }
}

/** Every item's completion as it finishes, starting the run at the first `next()`; a run of `errors: "return"`. */
export async function* completionsOf(start: () => MapRun): AsyncGenerator<Completion> {
  const run = start();
  for await (const batch of batchesOf(run)) {
    for (const completion of batch) yield completion;
    run.consumed(batch.length);
  }
}

/**
 * The batches of completions a run delivers, until it ends. Leaving the loop
 * (a throw, a break, the consumer's return) stops the run: its calls in
 * flight are cancelled on their nodes.
 */
async function* batchesOf(run: MapRun): AsyncGenerator<Completion[]> {
  try {
    for (let batch = await run.take(); batch; batch = await run.take()) yield batch;
  } finally {
    run.stop();
  }
}
