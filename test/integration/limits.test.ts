import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as connectHttp2 } from "node:http2";
import { test } from "node:test";
import { connect } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code } from "../../src/code.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { defer, ROOT, runCli, startNode } from "../helpers.js";

test("a node past maxCallsInFlight refuses more calls with RESOURCE_EXHAUSTED, and serves again after", async () => {
  const gate = defer();
  let started = 0;
  const twoRunning = defer();
  const { node, target } = await startNode({ workers: 1, maxCallsInFlight: 2 });
  node.expose(
    "slow",
    {
      async hold() {
        if (++started === 2) twoRunning.resolve();
        await gate.promise;
        return "done";
      },
    },
    { methods: ["hold"] },
  );
  const conn = connect(`ferry://${target}/slow`);
  const other = connect(target);
  try {
    const slow = conn.proxy<{ hold(): Promise<string> }>();
    const held = [slow.hold(), slow.hold()];
    await twoRunning.promise;
    const refused = (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED, err.message);
      assert.match(err.message, /node has 2 calls running, its limit \(maxCallsInFlight\)/);
      return true;
    };
    await assert.rejects(slow.hold(), refused);
    await assert.rejects(other.service(PrimeChecker).isPrime({ n: 97n }), refused);
    gate.resolve();
    assert.deepEqual(await Promise.all(held), ["done", "done"]);
    assert.equal((await other.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
  } finally {
    gate.resolve();
    conn.close();
    other.close();
    await node.shutdown();
  }
  const bad = await runCli(["node", "--port", "0", "--max-in-flight", "0"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--max-in-flight must be a positive integer/);
});

test("a worker that fails or runs out of memory costs its call INTERNAL, never the node", async () => {
  const { node, target } = await startNode({
    workers: 1,
    workerFile: `${ROOT}test/fixtures/faulty-worker.mjs`,
    workerHeapMb: 32,
  });
  const conn = connect(target);
  try {
    const primes = conn.service(PrimeChecker);
    const internal = (pattern: RegExp) => (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.INTERNAL, err.message);
      assert.match(err.message, pattern);
      return true;
    };
    await assert.rejects(primes.isPrime({ n: 13n }), internal(/worker running this call failed/));
    await assert.rejects(primes.isPrime({ n: 666n }), internal(/ran out of memory and was replaced/));
    assert.equal((await primes.isPrime({ n: 97n })).prime, true);
    assert.equal(node.inFlight, 0);
  } finally {
    conn.close();
    await node.shutdown();
  }
});

test("a connection with no calls is closed after idleConnectionMs", async () => {
  const { node, target } = await startNode({ workers: 1, idleConnectionMs: 200 });
  const session = connectHttp2(`http://${target}`);
  try {
    // The HTTP/2 handshake completes, then nothing is asked: the node says goodbye.
    await once(session, "remoteSettings");
    const closed = await Promise.race([
      once(session, "goaway").then(() => "goaway"),
      once(session, "close").then(() => "close"),
      new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5_000).unref()),
    ]);
    assert.match(String(closed), /goaway|close/);
    const conn = connect(target);
    try {
      assert.equal((await conn.service(PrimeChecker).isPrime({ n: 97n })).prime, true, "the node serves on");
    } finally {
      conn.close();
    }
  } finally {
    session.destroy();
    await node.shutdown();
  }
});
