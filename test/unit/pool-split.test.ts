import assert from "node:assert/strict";
import { test } from "node:test";
import type { Completion } from "../../client/map-options.js";
import { type SplitPool, splitEstimatePi } from "../../client/pool-split.js";
import type { EstimateRequest } from "../../src/gen/ferry/v1/pi.js";

/** A pool of `slots` slots that answers each range at once, recording what it was asked. */
function recordingPool(slots: number): { pool: SplitPool; asked: EstimateRequest[] } {
  const asked: EstimateRequest[] = [];
  const pool = {
    slots,
    ready: async () => {},
    async *completions(_method: unknown, items: Iterable<EstimateRequest>) {
      let index = 0;
      for (const r of items) {
        asked.push(r);
        const value = {
          pi: 3,
          inside: (r.samples * 3n) / 4n,
          samples: r.samples,
          stderr: 0,
          elapsedSeconds: 0,
          seed: r.seed,
        };
        yield { index: index++, node: `n${index % 2}`, ok: true, value } as Completion<unknown>;
      }
    },
  } as unknown as SplitPool;
  return { pool, asked };
}

test("a long pi job is many ranges of at most 2^30 samples, never longer ones", async () => {
  const { pool, asked } = recordingPool(1);
  const heard: bigint[] = [];
  const r = await splitEstimatePi(
    pool,
    { samples: 100_000_000_000n, seed: 42n },
    {
      onProgress: (done, total) => {
        assert.equal(total, 100_000_000_000n);
        heard.push(done);
      },
    },
  );
  assert.equal(r.samples, 100_000_000_000n);
  assert.ok(asked.length >= 93, `${asked.length} ranges`);
  for (const range of asked) assert.ok(range.samples <= 1n << 30n, `${range.samples} samples in one range`);
  assert.equal(heard.length, asked.length);
  assert.equal(heard.at(-1), 100_000_000_000n);
  // The ranges tile the blocks: each starts where the one before ended.
  let next = 0n;
  for (const range of asked) {
    assert.equal(range.firstBlock, next);
    next += range.samples / (1n << 20n);
  }
});

test("a short pi job is still cut into 8 ranges per slot", async () => {
  const { pool, asked } = recordingPool(4);
  await splitEstimatePi(pool, { samples: 1n << 30n, seed: 1n });
  assert.equal(asked.length, 32);
});
