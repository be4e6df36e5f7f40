/**
 * The node's one observation point: calls that arrive every way (a session
 * call, each entry of a pool batch, a unary Invoke, a typed service's unary
 * and streaming methods, an object held by reference) are counted under
 * their object and method with their outcome code, and names the node does
 * not expose never make a series of their own.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials, Metadata } from "@grpc/grpc-js";
import { connect, type NodeConnection } from "../../client/connect.js";
import { createPool } from "../../client/pool.js";
import { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { loadObjects } from "../../server/load-objects.js";
import { byReference } from "../../server/references.js";
import { Code } from "../../src/code.js";
import { ObjectsClient } from "../../src/gen/ferry/v1/objects.js";
import { ServerError } from "../../src/server-error.js";
import { defer, ROOT, startNode } from "../helpers.js";

class Tally {
  constructor(readonly start: number) {}
  bump(by: number) {
    return this.start + by;
  }
}

class Calc {
  add(a: number, b: number) {
    return a + b;
  }
  half(n: number) {
    if (n % 2 !== 0) throw new ServerError(Code.INVALID_ARGUMENT, "n: must be even", { field: "n" });
    return n / 2;
  }
  async *count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }
  tally(start: number) {
    return byReference(new Tally(start), ["bump"]);
  }
}

let node: FerryNode;
let target: string;
let conn: NodeConnection;

before(async () => {
  ({ node, target } = await startNode({ workers: 1 }));
  node.expose("calc", new Calc(), { methods: ["add", "half", "count", "tally"] });
  conn = connect(target);
});

after(async () => {
  conn?.close();
  await node?.shutdown();
});

/** Calls of `object.method` the node counted, by code name. */
function counted(object: string, method: string): Record<string, number> {
  const stats = node.observer.methods().find((m) => m.object === object && m.method === method);
  const out: Record<string, number> = {};
  stats?.codes.forEach((n, code) => {
    if (n > 0) out[Code[code] as string] = n;
  });
  return out;
}

test("every way a call arrives is counted under its object and method, with its code", async () => {
  const calc = conn.proxy<Calc>("calc");
  assert.equal(await calc.add(2, 3), 5);
  await assert.rejects(calc.half(3), RemoteError);
  const items: number[] = [];
  for await (const i of calc.count(4)) items.push(i as number);
  assert.deepEqual(items, [0, 1, 2, 3]);
  const tally = await calc.tally(10);
  assert.equal(await tally.bump(1), 11);

  const pool = createPool({ nodes: [target] });
  try {
    const halves = await pool.map("calc.half", [2, 4, 5, 8], { errors: "return" });
    assert.equal(halves.filter((h) => h instanceof RemoteError).length, 1);
  } finally {
    pool.close();
  }

  const raw = new ObjectsClient(target, credentials.createInsecure());
  const invoked = defer<unknown>();
  raw.invoke(
    { object: "calc", method: "add", args: [{ doubleValue: 1 }, { doubleValue: 1 }] },
    new Metadata(),
    (err, res) => (err ? invoked.reject(err) : invoked.resolve(res)),
  );
  await invoked.promise;
  raw.close();
  assert.equal((await conn.primes.isPrime({ n: 97n })).prime, true);

  // Answers go out before they are counted: let the node finish its books.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(counted("calc", "add"), { OK: 2 }, "one session call, one Invoke");
  assert.deepEqual(counted("calc", "half"), { OK: 3, INVALID_ARGUMENT: 2 }, "a call and four batch entries");
  assert.deepEqual(counted("calc", "count"), { OK: 1 }, "a stream, once it ended");
  assert.deepEqual(counted("Tally", "bump"), { OK: 1 }, "a reference counts under its class, not its id");
  assert.deepEqual(counted("PrimeChecker", "IsPrime"), { OK: 1 }, "a typed service's method");
  const half = node.observer.methods().find((m) => m.method === "half");
  assert.equal(
    half?.buckets.reduce((a, b) => a + b, 0),
    5,
    "each call has its duration",
  );
});

test("entries of a batch run in worker threads are counted with their own codes", async () => {
  await loadObjects(node, `${ROOT}test/fixtures/worker-objects.js`);
  await node.listen();
  const pool = createPool({ nodes: [target] });
  try {
    const refused = await pool.starmap("tricky.refuse", [[], [], []], { errors: "return" });
    assert.ok(
      refused.every((r) => r instanceof RemoteError && r.code === Code.FAILED_PRECONDITION),
      String(refused),
    );
    assert.deepEqual(await pool.map("work.square", [1, 2, 3, 4]), [1, 4, 9, 16]);
  } finally {
    pool.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(counted("tricky", "refuse"), { FAILED_PRECONDITION: 3 });
  assert.deepEqual(counted("work", "square"), { OK: 4 });
});

test("names the node does not expose count as unknown and never make a series", async () => {
  const named = () =>
    node.observer
      .methods()
      .filter((m) => m.object !== "(unknown)")
      .map((m) => `${m.object}.${m.method}`);
  const before = named();
  for (const name of ["nope1", "nope2", "nope3"]) {
    await assert.rejects(conn.call("calc", name, []), (err: RemoteError) => err.code === Code.UNIMPLEMENTED);
    await assert.rejects(conn.call(name, "add", []), (err: RemoteError) => err.code === Code.NOT_FOUND);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(named(), before, "a caller's name made a series");
  assert.deepEqual(counted("(unknown)", "(unknown)"), { NOT_FOUND: 3, UNIMPLEMENTED: 3 });
});
