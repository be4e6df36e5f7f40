import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { threadId } from "node:worker_threads";
import { connect, type NodeConnection } from "../../client/connect.js";
import { checkHealth } from "../../client/health-check.js";
import { withOptions } from "../../client/proxy.js";
import { RemoteError } from "../../client/remote-error.js";
import { loadObjects } from "../../server/load-objects.js";
import { Code } from "../../src/code.js";
import { ObjectsService } from "../../src/gen/ferry/v1/objects.js";
import { ROOT, runCli, spawnNode, startNode, within } from "../helpers.js";

const OBJECTS = `${ROOT}test/fixtures/worker-objects.js`;

/** A node on a free port serving the worker-objects fixture; `logged` collects its log lines. */
async function workersNode(options: Parameters<typeof startNode>[0] = {}) {
  const logged: string[] = [];
  const { node, target } = await (async () => {
    const { createNode } = await import("../../server/create-node.js");
    const node = createNode({ port: 0, workers: 2, log: (line) => logged.push(line), ...options });
    await loadObjects(node, OBJECTS);
    const { target } = await node.listen();
    return { node, target };
  })();
  const conn = connect(`ferry://${target}`);
  return { node, target, conn, logged };
}

/** Resolves once the node reports `count` workers busy. */
async function busyWorkers(conn: NodeConnection, count: number): Promise<void> {
  while ((await conn.node.info({})).workersBusy !== count);
}

const failsWith = (code: Code, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RemoteError, String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  return true;
};

// biome-ignore lint/suspicious/noExplicitAny: the fixture is JavaScript; its proxies are untyped.
type Untyped = any;

/** `withOptions` on an untyped proxy. */
const callsWith = (proxy: Untyped, options: Parameters<typeof withOptions>[1]): Untyped =>
  withOptions(proxy, options);

describe("users' code in worker threads", () => {
  test("calls of a CPU-bound method are served by more than one worker thread, none the event loop", async () => {
    const { node, conn } = await workersNode();
    const { createPool } = await import("../../client/pool.js");
    const pool = createPool([node.address?.target as string]);
    try {
      // Two calls that meet are running at the same time, in two threads.
      const met = await pool.map<number>("work.meet", ["a", "a"]);
      assert.equal(new Set(met).size, 2, `threads ${met}`);
      const burned = await pool.map<number>("work.burn", Array(8).fill(20));
      assert.ok(!burned.includes(threadId), "nothing ran on the node's event loop");
      const work: Untyped = conn.proxy("work");
      assert.equal(await work.square(12), 144);
    } finally {
      pool.close();
      conn.close();
      await node.shutdown();
    }
  });

  test("health checks and Node.Info answer while every worker runs user code", async () => {
    const { node, conn } = await workersNode();
    const tricky: Untyped = conn.proxy("tricky");
    const controller = new AbortController();
    const busy = [1, 2].map(() => callsWith(tricky, { signal: controller.signal }).politeSpin());
    try {
      // Node.Info answering "2 busy" is itself an answer while both are busy.
      await within(busyWorkers(conn, 2), 10_000, "both workers to be busy");
      const { acquireChannel } = await import("../../client/channel.js");
      const channel = acquireChannel(node.address?.target as string);
      try {
        await checkHealth(channel.client, 5_000);
      } finally {
        channel.release();
      }
      controller.abort();
      for (const call of busy) await assert.rejects(call, failsWith(Code.CANCELLED, /aborted by its signal/));
      // The loops saw their signals: both workers are free again.
      await within(busyWorkers(conn, 0), 10_000, "both workers to be free");
    } finally {
      controller.abort();
      conn.close();
      await node.shutdown();
    }
  });

  test("a session's actor keeps its state in one thread; release or another session gets its own", async () => {
    const { node, conn, target } = await workersNode();
    const other = connect(`ferry://${target}`);
    try {
      const model: Untyped = conn.proxy("Model");
      const answers: { sum: number; thread: number }[] = [];
      for (let x = 1; x <= 10; x++) answers.push(await model.add(x));
      assert.deepEqual(
        answers.map((a) => a.sum),
        [1, 3, 6, 10, 15, 21, 28, 36, 45, 55],
      );
      assert.equal(new Set(answers.map((a) => a.thread)).size, 1, "every call in one thread");
      // Calls sent at once still run one after another, in order.
      const burst = await Promise.all([1, 1, 1].map((x) => model.add(x)));
      assert.deepEqual(
        burst.map((a: { sum: number }) => a.sum),
        [56, 57, 58],
      );
      const second: Untyped = other.proxy("Model");
      assert.equal((await second.add(100)).sum, 100, "another session, another instance");
      await model[Symbol.asyncDispose]();
      const again: Untyped = conn.proxy("Model");
      assert.equal(await again.total(), 0, "released: the next call makes a new one");
      // A single-mode class is one instance for every caller, in one thread.
      const a: Untyped = conn.proxy("Counter");
      const b: Untyped = other.proxy("Counter");
      const counts = [await a.next(), await b.next(), await a.next()];
      assert.deepEqual(
        counts.map((c) => c.n),
        [1, 2, 3],
      );
      assert.equal(new Set(counts.map((c) => c.thread)).size, 1);
    } finally {
      other.close();
      conn.close();
      await node.shutdown();
    }
  });

  test("a loop past its deadline is stopped, its thread replaced, and the next call runs", async () => {
    const { node, conn, logged } = await workersNode({ workers: 1 });
    try {
      const work: Untyped = conn.proxy("work");
      const before = await work.thread();
      const tricky: Untyped = conn.proxy("tricky");
      await assert.rejects(
        callsWith(tricky, { timeoutMs: 200 }).spin(),
        failsWith(Code.DEADLINE_EXCEEDED, /deadline/),
      );
      const after = await work.thread();
      assert.notEqual(after, before, "a new thread took the stopped one's place");
      // The caller's deadline and the node's run out together: the node hears of it by
      // its own timer or by the caller's cancel, whichever comes first.
      assert.match(
        logged.join("\n"),
        /tricky\.spin went on 500 ms after (its deadline|being cancelled) without stopping/,
      );
      // A loop that watches its signal stops by itself and keeps its thread.
      assert.match(
        await callsWith(tricky, { timeoutMs: 200 })
          .politeSpin()
          .catch((e: RemoteError) => e.message),
        /deadline/,
      );
      assert.equal(await work.thread(), after);
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("running out of memory, process.exit() and an uncaught throw fail only their call, with INTERNAL", async () => {
    const { node, conn } = await workersNode({ workers: 1, limits: { workerHeapMb: 64 } });
    try {
      const tricky: Untyped = conn.proxy("tricky");
      const work: Untyped = conn.proxy("work");
      for (const [method, pattern] of [
        ["hog", /tricky\.hog: its worker thread ran out of memory \(workerHeapMb 64\) and was replaced/],
        ["quit", /tricky\.quit: its worker thread exited \(process\.exit\(3\)\)/],
        ["crash", /tricky\.crash: its worker thread ended on an uncaught Error/],
      ] as const) {
        await assert.rejects(tricky[method](), failsWith(Code.INTERNAL, pattern));
        assert.equal(await work.square(3), 9, `the node serves on after ${method}`);
      }
      await assert.rejects(
        tricky.deep(1_000_000),
        failsWith(Code.INTERNAL, /tricky\.deep overflowed its stack/),
      );
      assert.equal(node.inFlight, 0);
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("an actor whose thread died fails its later calls, saying its state is gone", async () => {
    const { node, conn } = await workersNode({ workers: 1, limits: { workerHeapMb: 64 } });
    try {
      const model: Untyped = conn.proxy("Model");
      assert.equal((await model.add(5)).sum, 5);
      const tricky: Untyped = conn.proxy("tricky");
      await assert.rejects(tricky.quit(), failsWith(Code.INTERNAL, /exited/));
      await assert.rejects(
        model.add(1),
        failsWith(
          Code.FAILED_PRECONDITION,
          /Model\.add: the worker thread this instance lived in exited .*state is gone/,
        ),
      );
      await model[Symbol.asyncDispose]();
      const fresh: Untyped = conn.proxy("Model");
      assert.equal((await fresh.add(1)).sum, 1);
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("errors, the call context, streams, oneway and limits work as on the main thread", async () => {
    const { node, conn, logged } = await workersNode({ exposeStacks: true });
    try {
      const tricky: Untyped = conn.proxy("tricky");
      await assert.rejects(tricky.fail(), (err: RemoteError) => {
        assert.equal(err.code, Code.UNKNOWN);
        assert.equal(err.remoteName, "TypeError");
        assert.equal(err.details, "user bug");
        assert.match(err.remoteStack ?? "", /worker-objects\.js/);
        return true;
      });
      await assert.rejects(tricky.refuse(), (err: RemoteError) => {
        assert.equal(err.code, Code.FAILED_PRECONDITION);
        assert.equal(err.field, "when");
        return true;
      });
      const context = await callsWith(tricky, { timeoutMs: 5_000 }).later(5);
      assert.equal(context.aborted, false);
      assert.ok(context.deadline > Date.now() && context.deadline <= Date.now() + 5_000);
      assert.equal(typeof context.sessionId, "string");
      assert.match(context.peer, /127\.0\.0\.1/);
      assert.notEqual(context.thread, threadId);
      const items: number[] = [];
      for await (const n of callsWith(tricky, { streamWindow: 4 }).count(50)) items.push(n);
      assert.deepEqual(items, [...Array(50).keys()]);
      assert.deepEqual(await tricky.count(3), [0, 1, 2]);
      assert.equal(await tricky.note(), undefined, "a oneway method is not waited for");
      await assert.rejects(
        tricky.count(1, 2),
        failsWith(Code.INVALID_ARGUMENT, /tricky\.count takes 1 argument, got 2/),
      );
      await assert.rejects(tricky.later(Symbol.for("x")), failsWith(Code.INVALID_ARGUMENT, /symbols/));
      assert.ok(
        logged.some((line) => /tricky\.fail failed: TypeError: user bug/.test(line)),
        "the node logs it",
      );
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("a callback or a by-reference result cannot cross a thread: FAILED_PRECONDITION naming the method", async () => {
    const { node, conn } = await workersNode();
    try {
      const tricky: Untyped = conn.proxy("tricky");
      await assert.rejects(
        tricky.callMe(() => 1),
        failsWith(
          Code.FAILED_PRECONDITION,
          /args\[0\]: tricky\.callMe runs in worker threads, where a callback/,
        ),
      );
      for (const method of ["handle", "model"]) {
        await assert.rejects(
          tricky[method](),
          failsWith(
            Code.FAILED_PRECONDITION,
            new RegExp(
              `result: tricky\\.${method} runs in worker threads, and an object handed out by reference`,
            ),
          ),
        );
      }
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("ferry ls shows where each object runs; ferry info shows busy workers and queued tasks", async () => {
    const { node, target, conn } = await workersNode();
    try {
      const ls = await runCli(["ls", target]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /^work\s+single\s+workers\s+burn, square, thread, wait, meet$/m);
      assert.match(ls.stdout, /^mainWork\s+single\s+main\s+/m);
      assert.match(ls.stdout, /^Model\s+session\s+workers\s+add, total$/m);
      const info = await runCli(["info", target]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /^workers\s+2 \(0 busy, 0 tasks queued\)$/m);
    } finally {
      conn.close();
      await node.shutdown();
    }
  });
});

describe("modules that cannot run in worker threads", () => {
  test("a module that fails to import in the threads stops the node at start, naming file, export and cause", async () => {
    const { createNode } = await import("../../server/create-node.js");
    const node = createNode({ port: 0, workers: 1, log: () => {} });
    try {
      await loadObjects(node, `${ROOT}test/fixtures/worker-import-fails.js`);
      await assert.rejects(
        node.listen(),
        /worker threads cannot import .*worker-import-fails\.js \(export licensed\): no licence server reachable from this thread/,
      );
    } finally {
      await node.forceShutdown();
    }
    const cli = await runCli([
      "node",
      "--port",
      "0",
      "--load",
      `${ROOT}test/fixtures/worker-import-fails.js`,
    ]);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr.trim().split("\n").length, 1, cli.stderr);
    assert.match(
      cli.stderr,
      /^ferry: worker threads cannot import .*worker-import-fails\.js \(export licensed\): no licence server/,
    );
  });

  test("an object exposed to the threads while the node serves is called as soon as it is exposed", async () => {
    const { node, conn } = await workersNode();
    try {
      // A module no thread has imported yet, whose import takes 100 ms.
      const SLOW = `${ROOT}test/fixtures/slow-import.js`;
      const { slow } = (await import(SLOW)) as { slow: object };
      node.expose("late", slow, { methods: ["square"], run: "workers", module: SLOW, exportName: "slow" });
      // Sent at once (Invoke asks no Describe first): each thread runs them after its import.
      const objects = conn.service(ObjectsService);
      const answers = await Promise.all(
        [2, 3, 4].map((x) =>
          objects.invoke({ object: "late", method: "square", args: [{ doubleValue: x }] }),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.result?.doubleValue),
        [4, 9, 16],
      );
    } finally {
      conn.close();
      await node.shutdown();
    }
  });

  test("expose() of a worker-run object needs its module; a bad run is refused", async () => {
    const { node } = await startNode({ workers: 1 });
    try {
      const calc = { add: (a: number, b: number) => a + b };
      assert.throws(
        () => node.expose("calc", calc, { methods: ["add"], run: "workers" }),
        /run "workers" needs options\.module/,
      );
      assert.throws(
        () => node.expose("calc", calc, { methods: ["add"], run: "everywhere" as never }),
        /run must be "main" or "workers", got "everywhere"/,
      );
    } finally {
      await node.shutdown();
    }
  });
});

describe("pools over nodes running users' code", () => {
  test("long calls complete in worker threads; on the event loop the map fails naming the method that held it", async () => {
    const BUSY = `${ROOT}test/fixtures/busy-objects.js`;
    const nodes = await Promise.all([1, 2].map(() => spawnNode(["--workers", "1", "--load", BUSY])));
    let stderr = "";
    for (const { child } of nodes) child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const { createPool } = await import("../../client/pool.js");
    const pool = createPool(nodes.map((n) => n.target));
    try {
      // 2 s each: the nodes still answer health checks, so nothing is taken for dead.
      const threads = await pool.map<number>("inWorkers.burn", [2_000, 2_000]);
      assert.equal(threads.length, 2);
      assert.ok(
        threads.every((t) => t > 0),
        `every call ran in a worker thread: ${threads}`,
      );
      await assert.rejects(
        pool.map("onMain.burn", [2_000, 2_000, 2_000, 2_000]),
        failsWith(
          Code.FAILED_PRECONDITION,
          /stopped answering because onMain\.burn held its event loop for \d+ ms \(it runs on the node's main thread\); expose onMain with run: "workers"/,
        ),
      );
      const info = await runCli(["info", nodes[0]?.target as string]);
      assert.match(info.stdout, /^loop\s+held \d+ ms by onMain\.burn, [\d.]+ s ago$/m);
      assert.match(stderr, /onMain\.burn held the event loop for \d+ ms/);
    } finally {
      pool.close();
      for (const { child } of nodes) child.kill();
    }
  });
});
