// Naming across "hosts": Linux network namespaces on a private bridge. Nodes
// in three namespaces register in a real etcd listening on the bridge, and a
// pool that follows the registry takes a node that joins in the middle of a
// map and drops one that is killed. Then a client in a fourth namespace
// follows a dns:/// name whose addresses come from that namespace's hosts
// file, which the test rewrites under the running client. Needs root
// (namespaces, veth pairs, a bridge, /etc/netns) and Debian's etcd-server;
// skipped with the reason when the system refuses namespaces. Run
// `make build` first: the nodes are the compiled CLI.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { EtcdResolver } from "../../client/etcd-resolver.js";
import { listNodes } from "../../client/naming.js";
import { createPool, type Pool } from "../../client/pool.js";
import { EtcdServer } from "../etcd-server.js";
import { ROOT, within } from "../helpers.js";
import { alive, type Host, makeNetwork, type Network, skipReason } from "./netns.js";

const PORT = 50051;
const FIXTURE = `${ROOT}test/fixtures/pool-objects.js`;
const CLIENT = `${ROOT}test/fixtures/dns-pool-client.ts`;
/** Items of the registry map; C joins at a quarter of them, A is killed at half. */
const ITEMS = 3_000;
/** Items of the dns:/// map, and where its input pauses while the hosts file changes. */
const DNS_ITEMS = 600;
const DNS_PAUSE = 200;
const DNS_NAME = "ferry-nodes.test";
const TTL_SECONDS = 2;

/** A `ferry node` process running in a host's namespace. */
interface NodeProcess {
  host: Host;
  child: ChildProcess;
  stderr: string;
  /** performance.now() when its stderr said it registered in etcd. */
  registeredAt?: number;
  exited: Promise<unknown>;
}

/** Polls until `ready()` holds; fails naming what was awaited after `ms`. */
async function until(ms: number, what: string, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("naming across network namespaces: etcd and dns:///", {
  skip: skipReason("creating network namespaces, veth pairs, a bridge and /etc/netns files"),
  timeout: 90_000,
}, () => {
  let network: Network | undefined;
  let subnet = "";
  /** A, B and C run nodes; D runs the dns:/// client. */
  let hosts: Host[] = [];
  /** /etc/netns directories setup made, so teardown removes exactly those. */
  const netnsDirs: string[] = [];
  let madeNetnsRoot = false;
  /** Every process we started; teardown kills those still running. */
  const children = new Set<ChildProcess>();
  /** Set when the system refused to make namespaces: the tests skip with it. */
  let refusedBecause: string | undefined;

  /** Starts `ferry node` in a namespace and waits (bounded) for its listening line. */
  async function startNodeIn(host: Host, registry?: string): Promise<NodeProcess> {
    const args = [
      "netns",
      "exec",
      host.ns,
      process.execPath,
      `${ROOT}bin/ferry.js`,
      "node",
      "--port",
      String(PORT),
      "--workers",
      "1",
      "--grace",
      "2000",
      "--json",
      "--load",
      FIXTURE,
    ];
    if (registry) {
      // --insecure: a private bridge this test made, that no one else can reach.
      args.push("--host", "0.0.0.0", "--insecure", "--advertise", host.target, "--registry", registry);
      args.push("--ttl", String(TTL_SECONDS));
    } else args.push("--host", host.address, "--insecure");
    // `ip netns exec` enters the namespace and execs the command: the child's pid is the node's.
    const child = spawn("ip", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const exited = once(child, "exit");
    exited.then(() => children.delete(child));
    const node: NodeProcess = { host, child, stderr: "", exited };
    child.stderr?.on("data", (d: Buffer) => {
      node.stderr += d.toString();
      if (
        node.registeredAt === undefined &&
        /registered in etcd:\/\/\S+ as ferry\/v1\/nodes\//.test(node.stderr)
      )
        node.registeredAt = performance.now();
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const first = new Promise<{ listening: string; registered?: boolean; key?: string }>(
      (resolve, reject) => {
        // The interface keeps reading after the first line, so the pipe never fills.
        lines.once("line", (line) => {
          try {
            resolve(JSON.parse(line));
          } catch (err) {
            reject(new Error(`ferry node in ${host.ns} printed ${JSON.stringify(line)}`, { cause: err }));
          }
        });
        exited.then(([code, signal]) =>
          reject(
            new Error(`ferry node in ${host.ns} exited (${code ?? signal}) before listening: ${node.stderr}`),
          ),
        );
      },
    );
    const listening = await within(first, 15_000, `ferry node in ${host.ns} to listen`);
    if (registry) {
      assert.equal(listening.listening, `0.0.0.0:${PORT}`);
      assert.equal(listening.registered, true, `the node in ${host.ns} registered: ${node.stderr}`);
      assert.equal(listening.key, `ferry/v1/nodes/${host.target}`);
      assert.ok(node.registeredAt !== undefined, `the node in ${host.ns} said it registered: ${node.stderr}`);
    } else assert.equal(listening.listening, host.target, `the node in ${host.ns} listens where asked`);
    return node;
  }

  /** Sends the signal and waits (bounded) for the process to exit. */
  async function stop(child: ChildProcess, signal: NodeJS.Signals, what: string): Promise<void> {
    if (!alive(child) || child.pid === undefined) return;
    const exited = once(child, "exit");
    process.kill(child.pid, signal);
    await within(exited, 15_000, `${what} to exit after ${signal}`);
  }

  before(async () => {
    network = makeNetwork("fr-", 78, ["a", "b", "c", "d"], PORT);
    refusedBecause = network.refusedBecause;
    subnet = network.subnet;
    hosts = network.hosts;
  });

  after(async () => {
    const problems: string[] = [];
    await Promise.all(
      [...children].map((child) =>
        stop(child, "SIGKILL", `pid ${child.pid}`).catch((err: Error) => problems.push(err.message)),
      ),
    );
    for (const dir of netnsDirs) rmSync(dir, { recursive: true, force: true });
    if (madeNetnsRoot) {
      try {
        rmdirSync("/etc/netns");
      } catch {
        // Another run's namespace has files there now: leave it.
      }
    }
    problems.push(...(network?.remove() ?? []));
    for (const dir of netnsDirs) if (existsSync(dir)) problems.push(`${dir} still exists`);
    assert.deepEqual(problems, [], "teardown left nothing behind");
  });

  test("nodes on three hosts register in etcd; a pool follows one joining and one killed", async (t) => {
    if (refusedBecause) {
      t.skip(refusedBecause);
      return;
    }
    const [hostA, hostB, hostC] = hosts as [Host, Host, Host, Host];
    // On the bridge address of the root namespace, so the namespaces reach it.
    const etcd = new EtcdServer(`${subnet}.1`);
    let watch: EtcdResolver | undefined;
    let pool: Pool | undefined;
    const nodes: NodeProcess[] = [];
    try {
      await etcd.start();
      if (etcd.child) children.add(etcd.child);
      const registry = etcd.url;

      // The registry as a separate watcher sees it: when each address joins and leaves.
      const listed = new Set<string>();
      const joinedAt = new Map<string, number>();
      const leftAt = new Map<string, number>();
      const watchErrors: string[] = [];
      watch = new EtcdResolver(registry);
      watch.start(
        (resolved) => {
          const now = performance.now();
          const targets = new Set(resolved.map((r) => r.target));
          for (const target of targets) if (!listed.has(target)) joinedAt.set(target, now);
          for (const target of listed) if (!targets.has(target)) leftAt.set(target, now);
          listed.clear();
          for (const target of targets) listed.add(target);
        },
        (err) => watchErrors.push(err.message),
      );

      const [a, b] = await Promise.all([startNodeIn(hostA, registry), startNodeIn(hostB, registry)]);
      nodes.push(a, b);
      assert.deepEqual(
        (await listNodes(registry)).map((r) => r.address),
        [hostA.target, hostB.target].sort(),
        "A and B are registered under their advertised addresses",
      );

      pool = createPool({ registry, timeoutMs: 20_000 });
      await within(pool.ready(), 10_000, "the pool to find A and B");
      const p = pool;
      await until(
        10_000,
        "A and B up in the pool",
        () => p.stats().filter((s) => s.state === "up").length === 2,
      );

      const squares = new Map<number, number>();
      const duplicates: number[] = [];
      const failures: string[] = [];
      const byNode = new Map<string, number>();
      let joining: Promise<NodeProcess> | undefined;
      let firstOnC: number | undefined;
      let killedAt: number | undefined;
      await within(
        (async () => {
          let done = 0;
          // Four items in flight: the map lasts while C joins and A is killed.
          for await (const r of p.completions<{ square: number; pid: number }>(
            "Work.steady",
            Array.from({ length: ITEMS }, (_, i) => i),
            { concurrency: 4 },
          )) {
            done++;
            byNode.set(r.node, (byNode.get(r.node) ?? 0) + 1);
            if (r.node === hostC.target && firstOnC === undefined) firstOnC = performance.now();
            if (squares.has(r.index)) duplicates.push(r.index);
            if (!r.ok) failures.push(`item ${r.index} on ${r.node}: ${r.error.message}`);
            else squares.set(r.index, r.value.square);
            if (done === ITEMS / 4) {
              joining = startNodeIn(hostC, registry);
              joining.then(
                (c) => nodes.push(c),
                () => {},
              );
            }
            if (done === ITEMS / 2) {
              killedAt = performance.now();
              process.kill(a.child.pid as number, "SIGKILL");
            }
          }
        })(),
        45_000,
        `the map of ${ITEMS} items`,
      );
      const c = await within(
        joining ?? Promise.reject(new Error("C never started")),
        15_000,
        "the node of C to start",
      );

      // Correctness: every item once, with the right answer; the node that joined got work.
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} items failed`);
      assert.deepEqual(duplicates.slice(0, 10), [], `${duplicates.length} items came back twice`);
      assert.equal(squares.size, ITEMS);
      const wrong: string[] = [];
      for (let i = 0; i < ITEMS; i++)
        if (squares.get(i) !== i * i) wrong.push(`item ${i}: ${squares.get(i)}`);
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} results wrong`);
      assert.ok(
        (byNode.get(hostC.target) ?? 0) > 0,
        `the node that joined got items: ${JSON.stringify([...byNode])}`,
      );
      assert.ok(firstOnC !== undefined && c.registeredAt !== undefined);

      // The killed node's entry goes when its lease expires.
      await until(10_000, `A's entry (${hostA.target}) to leave the registry after SIGKILL`, () =>
        leftAt.has(hostA.target),
      );
      assert.ok(killedAt !== undefined);
      assert.deepEqual(
        (await listNodes(registry)).map((r) => r.address),
        [hostB.target, hostC.target].sort(),
        "A's entry is gone; B and C are listed",
      );

      const joinMs = Math.round(firstOnC - c.registeredAt);
      const removalMs = Math.round((leftAt.get(hostA.target) as number) - killedAt);
      const figures = [
        `joining node: first item ${joinMs} ms after registering`,
        `killed node: removed from the registry ${removalMs} ms after SIGKILL (TTL ${TTL_SECONDS} s)`,
        `items per node: ${[...byNode].map(([node, n]) => `${node} ${n}`).join(", ")}`,
      ];

      // A graceful stop deletes the entry itself, before the lease would expire.
      const stoppedAt = performance.now();
      await Promise.all([b, c].map((n) => stop(n.child, "SIGTERM", `the node in ${n.host.ns}`)));
      assert.deepEqual(await listNodes(registry), [], "B and C deleted their entries as they stopped");
      const gracefulMs = [b, c].map((n) => Math.round((leftAt.get(n.host.target) ?? Number.NaN) - stoppedAt));
      figures.push(`graceful stop: removed from the registry ${gracefulMs.join(" and ")} ms after SIGTERM`);
      assert.ok(joinedAt.has(hostC.target), "the watcher saw C join");
      if (watchErrors.length > 0) figures.push(`registry watcher errors: ${watchErrors.join("; ")}`);
      for (const line of figures) {
        console.log(line);
        t.diagnostic(line);
      }
    } finally {
      pool?.close();
      watch?.close();
      await Promise.all(nodes.map((n) => stop(n.child, "SIGKILL", `the node in ${n.host.ns}`)));
      await etcd.remove();
    }
  });

  test("a dns:/// name follows the addresses the hosts file gives", async (t) => {
    if (refusedBecause) {
      t.skip(refusedBecause);
      return;
    }
    const [hostA, hostB, hostC, client] = hosts as [Host, Host, Host, Host];
    const nodes: NodeProcess[] = [];
    let child: ChildProcess | undefined;
    try {
      nodes.push(...(await Promise.all([hostA, hostB, hostC].map((h) => startNodeIn(h)))));

      // `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts.
      // Recursive: a parallel run may remove an empty /etc/netns between a check and ours.
      madeNetnsRoot = !existsSync("/etc/netns");
      const dir = `/etc/netns/${client.ns}`;
      netnsDirs.push(dir);
      mkdirSync(dir, { recursive: true });
      const hostsFile = `${dir}/hosts`;
      const hostsFor = (addresses: string[]) =>
        `127.0.0.1\tlocalhost\n${addresses.map((a) => `${a}\t${DNS_NAME}\n`).join("")}`;
      writeFileSync(hostsFile, hostsFor([hostA.address, hostB.address]));
      const resolvesTo = () =>
        execFileSync("ip", ["netns", "exec", client.ns, "getent", "ahostsv4", DNS_NAME], {
          encoding: "utf8",
        });
      assert.match(resolvesTo(), new RegExp(`^${hostA.address.replaceAll(".", "\\.")}\\s`, "m"));

      child = spawn(
        "ip",
        [
          "netns",
          "exec",
          client.ns,
          process.execPath,
          "--import",
          "tsx",
          CLIENT,
          `dns:///${DNS_NAME}:${PORT}`,
          String(DNS_ITEMS),
          String(DNS_PAUSE),
          "200",
        ],
        { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
      );
      children.add(child);
      const running = child;
      const exited = once(running, "exit");
      exited.then(() => children.delete(running));
      let stderr = "";
      running.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      type Line = { event: string; nodes?: string[]; at?: number } & Record<string, unknown>;
      const events: Line[] = [];
      createInterface({ input: running.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        try {
          events.push(JSON.parse(line) as Line);
        } catch {
          events.push({ event: "garbage", line });
        }
      });
      const ended = () => !alive(running);
      const seen = (event: string) => events.find((e) => e.event === event);
      const failHow = () =>
        `client stderr: ${stderr.slice(-2000)}; events: ${JSON.stringify(events.slice(-5))}`;

      await until(
        20_000,
        "the client to read up to its pause",
        () => seen("paused") !== undefined || ended(),
      );
      const paused = seen("paused");
      assert.ok(paused, `the client paused: ${failHow()}`);
      assert.deepEqual(paused.nodes, [hostA.target, hostB.target].sort(), "the name gave A and B");

      // Rewritten in place (same inode): the bind mount in the client's namespace shows the new content.
      const inode = statSync(hostsFile).ino;
      const changedAt = Date.now();
      writeFileSync(hostsFile, hostsFor([hostA.address, hostB.address, hostC.address]));
      assert.equal(statSync(hostsFile).ino, inode);
      assert.match(resolvesTo(), new RegExp(`^${hostC.address.replaceAll(".", "\\.")}\\s`, "m"));
      running.stdin?.write("resume\n");

      await within(exited, 30_000, `the dns:/// map to end (${failHow()})`);
      const end = seen("end") as
        | (Line & {
            done: number;
            distinct: number;
            duplicates: number;
            checksum: number;
            wrong: string[];
            failed: string[];
            byNode: Record<string, number>;
            stats: { target: string; state: string; items: number }[];
          })
        | undefined;
      assert.equal(running.exitCode, 0, failHow());
      assert.ok(end, `the client reported its end: ${failHow()}`);
      assert.deepEqual(end.failed, []);
      assert.deepEqual(end.wrong, []);
      assert.equal(end.duplicates, 0);
      assert.equal(end.done, DNS_ITEMS);
      assert.equal(end.distinct, DNS_ITEMS);
      let checksum = 0;
      for (let i = 0; i < DNS_ITEMS; i++) checksum += i * i;
      assert.equal(end.checksum, checksum);
      assert.ok(
        (end.byNode[hostC.target] ?? 0) > 0,
        `the added address got items: ${JSON.stringify(end.byNode)}`,
      );
      for (const host of [hostA, hostB])
        assert.ok((end.byNode[host.target] ?? 0) > 0, `${host.target} got items`);
      const statsC = end.stats.find((s) => s.target === hostC.target);
      assert.ok((statsC?.items ?? 0) > 0, `the pool's stats count C's items: ${JSON.stringify(end.stats)}`);

      const joined = events.find((e) => e.event === "members" && e.nodes?.includes(hostC.target));
      assert.ok(joined?.at !== undefined);
      const figures = [
        `dns:/// name: the added address joined the pool ${joined.at - changedAt} ms after the hosts file changed (refresh 200 ms)`,
        `items per node: ${Object.entries(end.byNode)
          .map(([node, n]) => `${node} ${n}`)
          .join(", ")}`,
      ];
      for (const line of figures) {
        console.log(line);
        t.diagnostic(line);
      }
    } finally {
      if (child) await stop(child, "SIGKILL", "the dns:/// client");
      await Promise.all(nodes.map((n) => stop(n.child, "SIGTERM", `the node in ${n.host.ns}`)));
    }
  });
});
