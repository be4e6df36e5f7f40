import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { connectByName, listNodes, lookup } from "../../client/naming.js";
import { createPool } from "../../client/pool.js";
import type { RemoteError } from "../../client/remote-error.js";
import { LOCAL_BUILD } from "../../src/build-identity.js";
import { Code } from "../../src/code.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { EtcdServer } from "../etcd-server.js";
import { defer, ROOT, runCli, spawnNode, startNode } from "../helpers.js";

const FIXTURE = `${ROOT}test/fixtures/pool-objects.js`;

/** Waits for a child process to exit after `signal`. */
async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, "exit");
}

/** `ferry ns watch --json` as a child: its events, and a way to wait for one. */
function watchRegistry(url: string): {
  next(event: string, address: string): Promise<void>;
  child: ChildProcess;
} {
  const child = spawn(process.execPath, [`${ROOT}bin/ferry.js`, "ns", "watch", "--registry", url, "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const seen: { event: string; address: string }[] = [];
  const waiters: { event: string; address: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const e = JSON.parse(line) as { event: string; address: string };
    seen.push(e);
    for (const w of waiters.splice(0)) {
      if (w.event === e.event && w.address === e.address) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    child,
    next(event, address) {
      if (seen.some((e) => e.event === event && e.address === address)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ event, address, resolve }));
    },
  };
}

describe("nodes in etcd", () => {
  const etcd = new EtcdServer();
  before(async () => {
    await etcd.start();
  });
  after(async () => {
    await etcd.remove();
  });

  test("a node registers its address, slots, objects, tags and build; a graceful stop deletes it at once", async () => {
    const { node, target } = await startNode({
      workers: 1,
      registry: { url: etcd.url, tags: { zone: "a", gpu: "none" }, ttlSeconds: 2 },
    });
    node.expose("calc", { add: (a: number, b: number) => a + b }, { methods: ["add"] });
    let shut = false;
    try {
      assert.equal(node.registration?.registered, true);
      const [record] = await listNodes(etcd.url);
      assert.equal(record?.address, target);
      assert.equal(record?.slots, 1);
      assert.deepEqual(record?.tags, { zone: "a", gpu: "none" });
      assert.equal(record?.protocol, LOCAL_BUILD.protocol);
      assert.equal(record?.contract, LOCAL_BUILD.contract);
      assert.equal(record?.version, LOCAL_BUILD.version);
      assert.equal(record?.pid, process.pid);
      for (const name of ["PrimeChecker", "PiEstimator", "Fetcher"])
        assert.ok(record?.objects.includes(name));
      // Exposed after listening: the record follows.
      const hosting = await lookup(`ferry+etcd://127.0.0.1:${etcd.clientPort}/calc`);
      assert.deepEqual(
        hosting.map((r) => r.address),
        [target],
      );
      assert.deepEqual(await listNodes(etcd.url, { where: { zone: "b" } }), []);
      await node.shutdown();
      shut = true;
      assert.deepEqual(await listNodes(etcd.url), [], "deleted as the node stops, not at lease expiry");
    } finally {
      if (!shut) await node.shutdown();
    }
  });

  test("a killed node's entry expires with its lease; ferry ns watch reports the join and the leave", async () => {
    const watch = watchRegistry(etcd.url);
    const node = await spawnNode(["--workers", "1", "--registry", etcd.url, "--ttl", "1"]);
    try {
      await watch.next("join", node.target);
      await kill(node.child, "SIGKILL");
      await watch.next("leave", node.target);
      assert.deepEqual(await listNodes(etcd.url), []);
    } finally {
      await kill(node.child, "SIGKILL");
      await kill(watch.child, "SIGTERM");
    }
  });

  test("losing etcd does not stop a node serving; it registers again when etcd returns", async () => {
    const lines: string[] = [];
    const lost = defer();
    const again = defer();
    const { node, target } = await startNode({
      workers: 1,
      registry: { url: etcd.url, ttlSeconds: 1 },
      log: (line) => {
        lines.push(line);
        if (line.includes("still serving")) lost.resolve();
        if (line.includes("registered again")) again.resolve();
      },
    });
    const pool = createPool([target]);
    try {
      await etcd.stop();
      const r = await pool.submit(PrimeChecker.isPrime, { n: 97n });
      assert.equal(r.prime, true, "served while etcd is down");
      await assert.rejects(listNodes(etcd.url), (err: RemoteError) => {
        assert.equal(err.code, Code.UNAVAILABLE);
        assert.match(err.message, new RegExp(`etcd://127.0.0.1:${etcd.clientPort} unreachable`));
        return true;
      });
      // Down long enough that the lease is gone: the node must register anew.
      await lost.promise;
      const r1 = await pool.submit(PrimeChecker.isPrime, { n: 89n });
      assert.equal(r1.prime, true, "still serving after losing its registration");
      await etcd.start();
      await again.promise;
      assert.deepEqual(
        (await listNodes(etcd.url)).map((n) => n.address),
        [target],
      );
      const r2 = await pool.submit(PrimeChecker.isPrime, { n: 91n });
      assert.equal(r2.divisor, 7n);
    } finally {
      pool.close();
      await node.shutdown();
    }
  });

  test("a map over the registry follows a node that joins and one that is killed", async () => {
    const args = ["--workers", "1", "--registry", etcd.url, "--ttl", "2", "--load", FIXTURE];
    const a = await spawnNode(args);
    const b = await spawnNode(args);
    let c: { child: ChildProcess; target: string } | undefined;
    const pool = createPool({ registry: etcd.url, timeoutMs: 20_000 });
    const count = 600;
    const squares = new Map<number, number>();
    try {
      let done = 0;
      let joining: Promise<void> | undefined;
      // Two items in flight: the map (about 3 s) lasts while a node starts and joins, and one is killed.
      for await (const r of pool.completions<{ square: number; pid: number }>(
        "Work.steady",
        Array.from({ length: count }, (_, i) => i),
        { concurrency: 2 },
      )) {
        assert.ok(r.ok, r.ok ? "" : r.error.message);
        assert.equal(squares.has(r.index), false, `item ${r.index} delivered twice`);
        squares.set(r.index, r.value.square);
        done++;
        if (done === 100) {
          joining = spawnNode(args).then((node) => {
            c = node;
          });
        }
        if (done === 250) void kill(a.child, "SIGKILL");
      }
      await joining;
      assert.equal(squares.size, count);
      for (const [i, square] of squares) assert.equal(square, i * i);
      const stats = new Map(pool.stats().map((s) => [s.target, s]));
      assert.ok((stats.get(c?.target ?? "")?.items ?? 0) > 0, "the node that joined got work");
      assert.ok((stats.get(b.target)?.items ?? 0) > 0);
    } finally {
      pool.close();
      await kill(a.child, "SIGKILL");
      for (const node of [b, c]) if (node) await kill(node.child, "SIGTERM");
    }
    assert.deepEqual(
      (await listNodes(etcd.url)).map((n) => n.address).filter((addr) => addr !== a.target),
      [],
      "stopped nodes deleted their entries",
    );
  });

  test("where picks nodes by tag, and ferry+etcd:// finds a node hosting an object", async () => {
    const a = await spawnNode([
      "--workers",
      "1",
      "--registry",
      etcd.url,
      "--tag",
      "zone=a",
      "--load",
      FIXTURE,
    ]);
    const b = await spawnNode(["--workers", "1", "--registry", etcd.url, "--tag", "zone=b"]);
    const pool = createPool({ registry: etcd.url, where: { zone: "a" } });
    try {
      const results = await pool.map<{ pid: number }>("Work.steady", [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(
        pool.stats().map((s) => s.target),
        [a.target],
      );
      assert.equal(new Set(results.map((r) => r.pid)).size, 1);

      await using conn = await connectByName(`ferry+etcd://127.0.0.1:${etcd.clientPort}/Work`);
      assert.equal(conn.target, a.target);
      assert.equal(await conn.proxy<{ square(x: number): Promise<number> }>().square(12), 144);

      const call = await runCli(["call", `ferry+etcd://127.0.0.1:${etcd.clientPort}/Work.square`, "7"]);
      assert.equal(call.stdout.trim(), "49", call.stderr);
      // A typed method by its proto name, as the host:port form takes it: same request, same JSON.
      for (const method of ["PrimeChecker.IsPrime", "PrimeChecker.isPrime"]) {
        const typed = await runCli([
          "call",
          `ferry+etcd://127.0.0.1:${etcd.clientPort}/${method}`,
          '{"n":"97"}',
          "--json",
        ]);
        assert.equal(typed.code, 0, typed.stderr);
        const { elapsedSeconds: _, ...answer } = JSON.parse(typed.stdout);
        assert.deepEqual(answer, {
          n: "97",
          prime: true,
          divisor: "0",
          method: "PRIME_METHOD_TRIAL_DIVISION",
        });
      }
      const ls = await runCli(["ns", "ls", "--registry", etcd.url, "--json"]);
      const listed = ls.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { address: string; tags: Record<string, string> });
      assert.deepEqual(listed.map((n) => n.address).sort(), [a.target, b.target].sort());
      const table = await runCli(["ns", "ls", "--registry", etcd.url, "--where", "zone=b"]);
      assert.match(table.stdout, /^node\s+slots\s+objects\s+tags\s+version\s+age/);
      assert.match(
        table.stdout,
        new RegExp(`${b.target}\\s+1\\s+PrimeChecker,PiEstimator,Fetcher,Node\\s+zone=b`),
      );
      const found = await runCli(["ns", "lookup", "Work", "--registry", etcd.url]);
      assert.equal(found.stdout.trim(), `ferry://${a.target}/Work`);
      const primes = await runCli(["primes", "--registry", etcd.url, "--where", "zone=b", "--json", "97"]);
      assert.equal((JSON.parse(primes.stdout) as { node: string }).node, b.target, primes.stderr);

      const missing = await runCli(["ns", "lookup", "nothing", "--registry", etcd.url]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^ferry: \[NOT_FOUND\] no node registered in etcd:\/\/\S+ hosts "nothing"\n$/,
      );
      const none = createPool({ registry: etcd.url, where: { zone: "nowhere" } });
      try {
        await assert.rejects(none.map("Work.square", [1]), (err: RemoteError) => {
          assert.equal(err.code, Code.UNAVAILABLE);
          assert.match(err.message, /no nodes from etcd:\/\/\S+ where zone=nowhere/);
          return true;
        });
      } finally {
        none.close();
      }
    } finally {
      pool.close();
      await kill(a.child, "SIGTERM");
      await kill(b.child, "SIGTERM");
    }
  });

  test("bad registry input gets one clear line and a non-zero exit", async () => {
    const bad = await runCli(["ns", "ls", "--registry", "http://127.0.0.1:2379"]);
    assert.equal(bad.code, 2, "a usage error");
    assert.match(bad.stderr, /^ferry: .*registry must be etcd:\/\/host:port/);
    const tag = await runCli(["node", "--port", "0", "--tag", "zone"]);
    assert.equal(tag.code, 2, "a usage error");
    assert.match(tag.stderr, /--tag must be key=value/);
    const ttl = await runCli(["node", "--port", "0", "--ttl", "0"]);
    assert.equal(ttl.code, 2, "a usage error");
    assert.match(ttl.stderr, /--ttl must be a whole number of seconds from 1 to 3600/);
    const where = await runCli(["primes", "--nodes", "127.0.0.1:1", "--where", "zone=a"]);
    assert.equal(where.code, 2, "a usage error");
    assert.match(where.stderr, /--where selects registered nodes by tag: give --registry too/);
    const noNodes = await runCli(["primes"]);
    assert.equal(noNodes.code, 2, "a usage error");
    assert.match(noNodes.stderr, /no nodes: give --nodes/);
    // An etcd nobody runs: the map fails naming it, it does not hang.
    const pool = createPool({ registry: "etcd://127.0.0.1:1" });
    try {
      await assert.rejects(pool.map("Work.square", [1]), (err: RemoteError) => {
        assert.equal(err.code, Code.UNAVAILABLE);
        assert.match(err.message, /etcd:\/\/127\.0\.0\.1:1 unreachable/);
        return true;
      });
    } finally {
      pool.close();
    }
    const call = await runCli(["call", "ferry+etcd://127.0.0.1:1/calc.add", "2", "3"]);
    assert.equal(call.code, 1);
    assert.match(call.stderr, /^ferry: \[UNAVAILABLE\] etcd:\/\/127\.0\.0\.1:1 .*unreachable/);
  });
});
