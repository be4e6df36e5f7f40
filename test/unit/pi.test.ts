import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { type CancelFlag, CancelledError, cancel, createCancelFlag } from "../../src/kernels/cancel.js";
import {
  countInside,
  estimateFromCounts,
  isInsideQuarterCircle,
  PI_BLOCK_SAMPLES,
} from "../../src/kernels/pi.js";

const B = PI_BLOCK_SAMPLES;

/** Starts a thread that raises `flag` after `ms` milliseconds, while this thread is busy. */
function raiseFromAnotherThread(flag: CancelFlag, ms: number): Worker {
  const code = `const { workerData } = require("node:worker_threads");
setTimeout(() => Atomics.store(workerData, 0, 1), ${ms});`;
  return new Worker(code, { eval: true, workerData: flag });
}

test("blocks are 2^20 samples", () => {
  assert.equal(PI_BLOCK_SAMPLES, 1048576);
});

test("counts pinned by an independent implementation of the contract", () => {
  // Computed by a separate Python transcription of the contract in src/kernels/pi.ts (splitmix64 seeding,
  // xoshiro128** checked against its reference outputs 11520, 0, 5927040, 70819200 from state 1, 2, 3, 4,
  // integer comparison u^2 + v^2 < 2^64). A change here changes every node's answers.
  assert.equal(countInside(42n, 0, 1000), 761);
  assert.equal(countInside((1n << 64n) - 1n, 7, 1000), 771);
  assert.equal(countInside(0n, 123456, 1000), 809);
  assert.equal(countInside(20240601n, 0, B), 823243);
});

test("the same seed and samples give the same count", () => {
  assert.equal(countInside(7n, 0, B + 12345), countInside(7n, 0, B + 12345));
  assert.equal(countInside(0n, 5, 1000), countInside(0n, 5, 1000));
  assert.equal(countInside(0n, 0, 0), 0);
});

test("splitting a job by blocks gives the same count as one call", () => {
  const seed = 0xdeadbeefcafef00dn;
  const whole = countInside(seed, 0, 3 * B + 100);
  const parts =
    countInside(seed, 0, B) + countInside(seed, 1, B) + countInside(seed, 2, B) + countInside(seed, 3, 100);
  assert.equal(parts, whole);
  assert.equal(countInside(seed, 0, 2 * B) + countInside(seed, 2, B + 100), whole);
  // A partial final block counts a prefix of that block's stream.
  assert.ok(countInside(seed, 3, 100) <= countInside(seed, 3, 200));
  assert.ok(whole > 0 && whole < 3 * B + 100);
});

test("different seeds and different blocks draw different points", () => {
  const counts = new Set([1n, 2n, 3n, (1n << 64n) - 1n, 1n << 63n].map((seed) => countInside(seed, 0, B)));
  assert.equal(counts.size, 5);
  assert.notEqual(countInside(1n, 0, B), countInside(1n, 1, B));
});

test("10 million samples estimate pi within 6 standard errors", () => {
  const samples = 10_000_000;
  const inside = countInside(20240601n, 0, samples);
  const { pi, stderr } = estimateFromCounts(BigInt(inside), BigInt(samples));
  assert.ok(stderr > 0.0004 && stderr < 0.0007, `stderr ${stderr}`);
  assert.ok(Math.abs(pi - Math.PI) < 6 * stderr, `pi ${pi} stderr ${stderr}`);
});

test("estimateFromCounts", () => {
  assert.deepEqual(estimateFromCounts(3n, 4n), { pi: 3, stderr: 4 * Math.sqrt((0.75 * 0.25) / 4) });
  assert.deepEqual(estimateFromCounts(10n, 10n), { pi: 4, stderr: 0 });
  const none = estimateFromCounts(0n, 0n);
  assert.ok(Number.isNaN(none.pi) && Number.isNaN(none.stderr));
  assert.throws(() => estimateFromCounts(5n, 4n), RangeError);
  assert.throws(() => estimateFromCounts(-1n, 4n), RangeError);
});

test("the inside test is exact where doubles round to the boundary", () => {
  const max = 2 ** 32 - 1;
  assert.equal(isInsideQuarterCircle(0, 0), true);
  assert.equal(isInsideQuarterCircle(max, max), false);
  assert.equal(isInsideQuarterCircle(max, 92681), true); // max^2 + 92681^2 = 2^64 - 166830
  assert.equal(isInsideQuarterCircle(max, 92682), false);
  // u^2 + v^2 is 2^64 - 1404 and 2^64 - 1870, but rounds to exactly 2^64 in double arithmetic.
  for (const [u, v] of [
    [3712870104, 2159013586],
    [2478808695, 3507456561],
  ] as const) {
    assert.equal(u * u + v * v, 2 ** 64);
    assert.equal(isInsideQuarterCircle(u, v), true);
    assert.equal(isInsideQuarterCircle(u, v + 1), false);
  }
});

test("RangeError for bad arguments", () => {
  assert.throws(() => countInside(-1n, 0, 1), RangeError);
  assert.throws(() => countInside(1n << 64n, 0, 1), RangeError);
  assert.throws(() => countInside(0n, -1, 1), RangeError);
  assert.throws(() => countInside(0n, 0.5, 1), RangeError);
  assert.throws(() => countInside(0n, 0, -1), RangeError);
  assert.throws(() => countInside(0n, 0, Number.NaN), RangeError);
});

test("a raised flag stops countInside with CancelledError", async () => {
  const raised = createCancelFlag();
  cancel(raised);
  assert.throws(() => countInside(1n, 0, B, raised), CancelledError);

  // Raised from another thread while a job of about a minute runs.
  const flag = createCancelFlag();
  const worker = raiseFromAnotherThread(flag, 50);
  try {
    assert.throws(() => countInside(1n, 0, 10_000 * B, flag), CancelledError);
  } finally {
    await once(worker, "exit");
  }
});
