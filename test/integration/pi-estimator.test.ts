import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect, type NodeConnection } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { startNode } from "../helpers.js";

let one: { node: FerryNode; target: string };
let two: { node: FerryNode; target: string };
let a: NodeConnection;
let b: NodeConnection;

before(async () => {
  one = await startNode({ workers: 1, limits: { maxSamples: 50_000_000n } });
  two = await startNode({ workers: 2 });
  a = connect(one.target);
  b = connect(two.target);
});

after(async () => {
  a.close();
  b.close();
  await Promise.all([one.node.shutdown(), two.node.shutdown()]);
});

test("the same (samples, seed) gives the same answer on nodes with different worker counts", async () => {
  // 40 M samples span several worker tasks, so the split differs between the nodes.
  const request = { samples: 40_000_123n, seed: 42n };
  const [x, y, z] = await Promise.all([
    a.pi.estimate(request, { timeoutMs: 60_000 }),
    b.pi.estimate(request, { timeoutMs: 60_000 }),
    b.pi.estimate(request, { timeoutMs: 60_000 }),
  ]);
  assert.equal(x.inside, y.inside);
  assert.equal(y.inside, z.inside);
  assert.equal(x.samples, 40_000_123n);
  assert.equal(x.seed, 42n);
  assert.equal(x.pi, (4 * Number(x.inside)) / 40_000_123);
  assert.ok(Math.abs(x.pi - Math.PI) < 6 * x.stderr, `pi ${x.pi} stderr ${x.stderr}`);
  const other = await b.pi.estimate({ samples: 40_000_123n, seed: 43n }, { timeoutMs: 60_000 });
  assert.notEqual(other.inside, x.inside);
});

test("EstimateWithProgress reports progress and ends with the Estimate answer", async () => {
  const request = { samples: 100_000_000n, seed: 7n };
  const messages = [];
  for await (const m of b.pi.estimateWithProgress({ ...request, intervalMs: 1 }, { timeoutMs: 60_000 })) {
    messages.push(m);
  }
  const last = messages.at(-1);
  assert.ok(last?.done && last.estimate);
  assert.ok(messages.length >= 2, `only ${messages.length} messages`);
  for (const m of messages.slice(0, -1)) {
    assert.equal(m.done, false);
    assert.ok(m.doneSamples < request.samples);
  }
  assert.equal(last.doneSamples, request.samples);
  const unary = await b.pi.estimate(request, { timeoutMs: 60_000 });
  assert.equal(last.estimate.inside, unary.inside);
});

test("samples 0, negative or above the node's maximum are INVALID_ARGUMENT", async () => {
  const expectField = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.field, "samples");
    assert.match(err.details, pattern);
    return true;
  };
  await assert.rejects(a.pi.estimate({ samples: 0n, seed: 1n }), expectField(/samples: must be at least 1/));
  await assert.rejects(
    a.pi.estimate({ samples: -5, seed: 1n }),
    expectField(/samples: must not be negative/),
  );
  await assert.rejects(
    a.pi.estimate({ samples: 50_000_001n, seed: 1n }),
    expectField(/samples: must be at most 50000000 \(the node's maxSamples limit\)/),
  );
  await assert.rejects(
    (async () => {
      for await (const _ of a.pi.estimateWithProgress({ samples: 0n })) {
        // drain
      }
    })(),
    expectField(/at least 1/),
  );
  assert.equal((await a.pi.estimate({ samples: 1000n, seed: 1n })).samples, 1000n);
});

test("a deadline stops a long estimate with DEADLINE_EXCEEDED and frees the workers", async () => {
  await assert.rejects(
    a.pi.estimate({ samples: 50_000_000n, seed: 3n }, { timeoutMs: 50 }),
    (err: unknown) => err instanceof RemoteError && err.code === Code.DEADLINE_EXCEEDED,
  );
  const r = await a.pi.estimate({ samples: 1_000_000n, seed: 3n });
  assert.equal(r.samples, 1_000_000n);
});
