// A pool across three "hosts": Linux network namespaces on a private bridge,
// one `ferry node` process in each. Half way through a map one node is killed
// (SIGKILL) and another hangs (SIGSTOP); every item must still come back
// once, in its place. Needs root (namespaces, veth pairs, a bridge); skipped
// with the reason otherwise. Run `make build` first: the nodes are the
// compiled CLI.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { connect } from "../../client/connect.js";
import { createPool, type Pool } from "../../client/pool.js";
import { Code } from "../../src/code.js";
import { ROOT } from "../helpers.js";
import { alive, type Host, makeNetwork, type Network, skipReason } from "./netns.js";

/** Items in the map; the failures happen when the input reaches half of them. */
const ITEMS = 20_000;
const HALF = ITEMS / 2;
const PORT = 50051;

/** One of the "hosts", and the node running in it. */
interface NodeHost extends Host {
  child?: ChildProcess;
  stderr: string;
}

/** Starts `ferry node` inside a namespace and waits for the address it prints. */
async function spawnNodeIn(host: NodeHost): Promise<void> {
  // `ip netns exec` enters the namespace and execs the command: the child's pid is the node's.
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      host.ns,
      process.execPath,
      `${ROOT}bin/ferry.js`,
      "node",
      "--host",
      host.address,
      // A private bridge this test made: no one else can reach it.
      "--insecure",
      "--port",
      String(PORT),
      "--workers",
      "1",
      "--json",
      "--load",
      `${ROOT}test/fixtures/pool-objects.js`,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  host.child = child;
  child.stderr?.on("data", (d: Buffer) => {
    host.stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, "exit");
  const listening = await new Promise<string>((resolve, reject) => {
    // The interface keeps reading after the first line, so the pipe never fills.
    lines.once("line", (line) => {
      try {
        resolve((JSON.parse(line) as { listening: string }).listening);
      } catch (err) {
        reject(new Error(`ferry node in ${host.ns} printed ${JSON.stringify(line)}`, { cause: err }));
      }
    });
    exited.then(([code, signal]) =>
      reject(
        new Error(`ferry node in ${host.ns} exited (${code ?? signal}) before listening: ${host.stderr}`),
      ),
    );
  });
  assert.equal(listening, host.target, `the node in ${host.ns} listens where asked`);
}

/** Stops a node process for good (resuming it first if it is stopped) and waits for its exit. */
async function stopNode(host: NodeHost): Promise<void> {
  const child = host.child;
  if (!alive(child) || child.pid === undefined) return;
  const exited = once(child, "exit");
  process.kill(child.pid, "SIGCONT");
  process.kill(child.pid, "SIGKILL");
  await exited;
}

describe("a pool across three network namespaces", { skip: skipReason(), timeout: 120_000 }, () => {
  let network: Network | undefined;
  const hosts: NodeHost[] = [];
  /** Set when the system refused to make namespaces: the test skips with it. */
  let refusedBecause: string | undefined;
  let pool: Pool | undefined;

  before(async () => {
    network = makeNetwork("fy-", 77, ["1", "2", "3"], PORT);
    refusedBecause = network.refusedBecause;
    if (refusedBecause) return;
    for (const host of network.hosts) hosts.push({ ...host, stderr: "" });

    await Promise.all(hosts.map((host) => spawnNodeIn(host)));

    // The pid we hold is the node itself (ip netns exec execs it), reached across the bridge.
    for (const host of hosts) {
      const conn = connect(host.target);
      try {
        const work = conn.proxy<{ pid(): number }>("Work", { timeoutMs: 10_000 });
        assert.equal(await work.pid(), host.child?.pid, `${host.target} runs as the process we started`);
      } finally {
        conn.close();
      }
    }
  });

  after(async () => {
    pool?.close();
    await Promise.all(hosts.map((host) => stopNode(host)));
    assert.deepEqual(network?.remove() ?? [], [], "teardown left nothing behind");
  });

  test("a map of 20,000 items survives one node killed and one hung half way", async (t) => {
    if (refusedBecause) {
      t.skip(refusedBecause);
      return;
    }
    const [killed, hung, survivor] = hosts as [NodeHost, NodeHost, NodeHost];
    pool = createPool(hosts.map((h) => h.target));
    await pool.ready();
    for (const s of pool.stats()) assert.equal(s.state, "up", `${s.target} is up before the map`);

    let atFailure: ReturnType<Pool["stats"]> | undefined;
    const p = pool;
    let settled = false;
    const down = (host: Host) => p.stats().find((s) => s.target === host.target)?.state === "down";
    // Read lazily, a few chunks ahead of the nodes: when the map asks for the
    // middle item, one node dies and another hangs. The last item waits until
    // the pool has taken both out, so the end of the map cannot race past the
    // hung node's items with copies before its health probe gives up on it.
    async function* items(): AsyncGenerator<[number, number]> {
      for (let i = 0; i < ITEMS; i++) {
        if (i === HALF) {
          atFailure = p.stats();
          process.kill(killed.child?.pid as number, "SIGKILL");
          process.kill(hung.child?.pid as number, "SIGSTOP");
        }
        if (i === ITEMS - 1) {
          while (!settled && (!down(killed) || !down(hung)))
            await new Promise((resolve) => setImmediate(resolve));
        }
        yield [i, 1];
      }
    }
    const results = await pool.starmap<number>("Work.slowSquare", items(), { chunkSize: 8 }).finally(() => {
      settled = true;
    });

    assert.ok(atFailure, "the map read the middle item");
    for (const s of atFailure) assert.ok(s.items > 0, `${s.target} answered items before the failures`);

    assert.equal(results.length, ITEMS);
    const wrong: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      if (results[i] !== i * i) wrong.push(`results[${i}] = ${results[i]}`);
    }
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} results missing or wrong`);

    const stats = new Map(pool.stats().map((s) => [s.target, s]));
    const killedStats = stats.get(killed.target);
    const hungStats = stats.get(hung.target);
    const survivorStats = stats.get(survivor.target);
    assert.equal(killedStats?.state, "down", `the killed node is down: ${JSON.stringify(killedStats)}`);
    assert.equal(hungStats?.state, "down", `the hung node is down: ${JSON.stringify(hungStats)}`);
    assert.equal(survivorStats?.state, "up");
    for (const s of [killedStats, hungStats]) {
      assert.ok((s?.failures ?? 0) > 0, `${s?.target} lost calls when it failed`);
      assert.equal(s?.error?.code, Code.UNAVAILABLE, `${s?.target}: ${s?.error?.message}`);
    }
    // Every item after the failures went to the survivor.
    assert.ok(
      (survivorStats?.items ?? 0) >= ITEMS - HALF,
      `the survivor answered the second half: ${survivorStats?.items} items`,
    );
    // Each item was counted once, on the node whose answer was used.
    assert.equal(
      [...stats.values()].reduce((sum, s) => sum + s.items, 0),
      ITEMS,
    );

    // The hung node resumes, then every node goes; the pool closes.
    process.kill(hung.child?.pid as number, "SIGCONT");
    await Promise.all(hosts.map((host) => stopNode(host)));
    pool.close();
  });
});
