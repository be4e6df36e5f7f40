import assert from "node:assert/strict";
import { test } from "node:test";
import type { StatsResponse } from "../../src/gen/ferry/v1/node.js";
import { clusterMethodRates, methodRates, nodeRates, quantile } from "../../src/node-rates.js";

const bounds = [0.001, 0.01, 0.1];
const stats = (uptime: number, methods: [string, number[], number[]][]): StatsResponse => ({
  methods: methods.map(([name, codes, buckets]) => ({
    object: name.split(".")[0] as string,
    method: name.split(".")[1] as string,
    codes: codes.map(BigInt),
    buckets: buckets.map(BigInt),
    seconds: 0,
  })),
  bucketBoundsSeconds: bounds,
  inFlight: 0,
  workers: 1,
  workersBusy: 0,
  tasksQueued: 0,
  sessions: 0,
  sessionObjects: 0,
  connections: 0,
  bytesIn: 0n,
  bytesOut: 0n,
  uptimeSeconds: uptime,
  rssBytes: 0n,
  refused: {},
});

test("quantiles read off the buckets: the bound of the bucket the rank falls in", () => {
  assert.equal(quantile(bounds, [0n, 0n, 0n, 0n], 0.5), 0, "no calls");
  assert.equal(quantile(bounds, [90n, 9n, 1n, 0n], 0.5), 0.001);
  assert.equal(quantile(bounds, [90n, 9n, 1n, 0n], 0.99), 0.01);
  assert.equal(quantile(bounds, [0n, 0n, 0n, 5n], 0.5), Number.POSITIVE_INFINITY, "past every bound");
});

test("rates come from the counts between two answers; a restart starts again from zero", () => {
  const before = stats(10, [["calc.add", [100, 0, 0, 5], [100, 5, 0, 0]]]);
  const now = stats(12, [
    ["calc.add", [300, 0, 0, 25], [300, 25, 0, 0]],
    ["calc.new", [4], [0, 0, 4, 0]],
  ]);
  const [add, added] = methodRates(now, before, 2);
  assert.deepEqual(add, {
    object: "calc",
    method: "add",
    callsPerSecond: 110,
    errorsPerSecond: 10,
    p50: 0.001,
    p99: 0.01,
  });
  assert.equal(added?.callsPerSecond, 2, "a method first seen now counts from zero");
  assert.equal(nodeRates(now, before, 2).callsPerSecond, 112);
  const restarted = stats(4, [["calc.add", [8], [8, 0, 0, 0]]]);
  assert.equal(
    methodRates(restarted, now, 2)[0]?.callsPerSecond,
    2,
    "over the new uptime, not a negative delta",
  );
  assert.equal(nodeRates(before, undefined, 0).callsPerSecond, 10.5, "no earlier answer: over the uptime");
});

test("a method's rates over several nodes add up; its percentiles come from their buckets together", () => {
  const a = stats(10, [["calc.add", [10], [10, 0, 0, 0]]]);
  const b = stats(10, [["calc.add", [10], [0, 0, 10, 0]]]);
  const [add] = clusterMethodRates([
    { now: a, before: stats(9, [["calc.add", [0], [0, 0, 0, 0]]]), seconds: 1 },
    { now: b, before: stats(9, [["calc.add", [0], [0, 0, 0, 0]]]), seconds: 1 },
  ]);
  assert.equal(add?.callsPerSecond, 20);
  assert.equal(add?.p50, 0.001);
  assert.equal(add?.p99, 0.1);
});
