import assert from "node:assert/strict";
import { test } from "node:test";
import { createPool } from "../../client/pool.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { startNode } from "../helpers.js";

// Names the tests control, with several addresses, are in
// test/hosts/registry-hosts.test.ts (a namespace with its own hosts file).
test("a dns:/// name becomes one pool member per address it resolves to", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const port = target.slice(target.lastIndexOf(":") + 1);
  const pool = createPool({ nodes: [`dns:///localhost:${port}`], dnsRefreshMs: 50 });
  try {
    const results = await pool.map(PrimeChecker.isPrime, [{ n: 97n }, { n: 91n }]);
    assert.deepEqual(
      results.map((r) => r.divisor),
      [0n, 7n],
    );
    // localhost is 127.0.0.1 in /etc/hosts (and ::1 where it lists that too).
    const members = pool.stats().map((s) => s.target);
    assert.ok(members.includes(`127.0.0.1:${port}`), members.join(", "));
    const served = pool.stats().find((s) => s.target === `127.0.0.1:${port}`);
    assert.equal(served?.state, "up");
  } finally {
    pool.close();
    await node.shutdown();
  }
});
