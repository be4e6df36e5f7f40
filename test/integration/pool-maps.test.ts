/**
 * pool.maps(): a running map's items done, failed, queued and in flight,
 * per node, with the items sent again when a node goes away.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MapStats } from "../../client/map-tally.js";
import { createPool } from "../../client/pool.js";
import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import { startNode } from "../helpers.js";

class Slow {
  async slow(x: number) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (x % 50 === 7) throw new ServerError(Code.INVALID_ARGUMENT, "x: sevens are refused", { field: "x" });
    return x * 2;
  }
}

test("a running map reports its items per node; a node that goes away has its items sent again", async () => {
  const a = await startNode({ workers: 1 });
  const b = await startNode({ workers: 1 });
  for (const { node } of [a, b])
    node.expose("calc", new Slow(), { methods: ["slow"], idempotent: true, concurrency: { slow: 8 } });
  const pool = createPool({ nodes: [a.target, b.target] });
  const samples: MapStats[] = [];
  const sampler = setInterval(() => samples.push(...pool.maps()), 10);
  try {
    await pool.ready();
    const items = Array.from({ length: 1200 }, (_, i) => i);
    const running = pool.map("calc.slow", items, { errors: "return", chunkSize: 8 });
    // Once both nodes have answered some, the second goes away.
    const deadline = Date.now() + 20_000;
    while (!samples.some((s) => s.nodes.filter((n) => n.done > 0).length === 2)) {
      assert.ok(Date.now() < deadline, "both nodes never answered");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await b.node.forceShutdown();
    const results = await running;
    clearInterval(sampler);
    assert.equal(results.length, 1200);
    assert.equal(
      results.filter((r) => r instanceof Error).length,
      24,
      "every seventh-of-fifty refused, nothing lost",
    );
    const last = samples.at(-1) as MapStats;
    assert.equal(last.method, "calc.slow");
    assert.equal(last.total, 1200);
    assert.ok(
      samples.some((s) => s.inFlight > 0 && s.nodes.every((n) => n.inFlight > 0)),
      "both nodes held items",
    );
    assert.ok(last.retries > 0, `items of the node that went away were sent again (retries ${last.retries})`);
    const peak = samples.reduce((m, s) => (s.done > m.done ? s : m));
    assert.ok(peak.done > 600, `done grows as items complete: ${peak.done}`);
    assert.equal(
      peak.done,
      peak.nodes.reduce((sum, n) => sum + n.done, 0),
      "a map's items done add up over its nodes",
    );
    assert.ok(peak.failed > 0 && peak.failed <= 24);
    assert.deepEqual(pool.maps(), [], "a finished map is no longer listed");
  } finally {
    clearInterval(sampler);
    pool.close();
    await a.node.shutdown();
  }
});
