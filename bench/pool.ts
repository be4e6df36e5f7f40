/**
 * `make bench`, the pool part: each workload across two local nodes (one
 * worker each, separate processes) side by side with the same work on one
 * node of one worker, in this one run. Figures, not pass/fail.
 *
 * `tsx bench/pool.ts [primes|pi|tiny|fetch|lazy|faults|registry]` runs one part.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { startPageServer } from "../demo/pages.js";
// The compiled package, as users run it (`make bench` builds first).
import { createPool, Fetcher, type Pool, PrimeChecker } from "../dist/index.js";
import { BOOK_NUMBERS } from "../src/book-numbers.js";
import { largestFirst } from "../src/largest-first.js";
import { EtcdServer } from "../test/etcd-server.js";
import { POOL_FIXTURE, startNode, stopNode } from "./nodes.js";

const ROUNDS = 5;

const seconds = (since: number) => (performance.now() - since) / 1000;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
}

/** Two nodes of one worker, and the pools over both and over the first alone. */
async function twoNodes(): Promise<{
  both: Pool;
  one: Pool;
  stop: () => Promise<void>;
  children: ChildProcess[];
}> {
  // The page server of the fetch part is on loopback, which a node does not fetch from unless allowed.
  const flags = ["--load", POOL_FIXTURE, "--fetch-allow", "127.0.0.1/32"];
  const nodes = [await startNode(1, flags), await startNode(1, flags)];
  const both = createPool({ nodes: nodes.map((n) => n.target), timeoutMs: 120_000 });
  const one = createPool({ nodes: [nodes[0]?.target as string], timeoutMs: 120_000 });
  await Promise.all([both.ready(), one.ready()]);
  // First calls compile the kernels in each worker.
  await both.map(PrimeChecker.isPrime, [{ n: 97n }, { n: 89n }, { n: 83n }, { n: 79n }]);
  return {
    both,
    one,
    children: nodes.map((n) => n.child),
    stop: async () => {
      both.close();
      one.close();
      for (const n of nodes) await stopNode(n.child);
    },
  };
}

/** Median wall time of `work` on both pools, alternating rounds. */
async function sideBySide(
  both: Pool,
  one: Pool,
  work: (pool: Pool) => Promise<unknown>,
): Promise<[number, number]> {
  const walls: [number[], number[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, pool] of [both, one].entries()) {
      const started = performance.now();
      await work(pool);
      walls[i as 0 | 1].push(seconds(started));
    }
  }
  return [median(walls[0]), median(walls[1])];
}

async function primes(): Promise<void> {
  console.log("\n== The book's 20 numbers, trial division: pool.map over two nodes vs one worker (medians)");
  const { both, one, stop } = await twoNodes();
  const requests = BOOK_NUMBERS.map((n) => ({ n }));
  const [two, single] = await sideBySide(both, one, (pool) => pool.map(PrimeChecker.isPrime, requests));
  console.log(
    `  pool.map: two nodes ${two.toFixed(3)} s, one worker ${single.toFixed(3)} s: ${(single / two).toFixed(2)}x`,
  );
  // What `ferry primes` does: the largest numbers (the longest checks) first.
  const sorted = largestFirst(BOOK_NUMBERS).map((n) => ({ n }));
  const [twoSorted, singleSorted] = await sideBySide(both, one, (pool) =>
    pool.map(PrimeChecker.isPrime, sorted),
  );
  console.log(
    `  largest first (ferry primes): two nodes ${twoSorted.toFixed(3)} s, one worker ${singleSorted.toFixed(3)} s: ${(singleSorted / twoSorted).toFixed(2)}x`,
  );
  // One big number: its divisor range split into ranges over every slot.
  const n = 18446744073709551557n; // the largest prime below 2^64: every candidate is tried
  let started = performance.now();
  await one.isPrime({ n });
  const alone = seconds(started);
  started = performance.now();
  const r = await both.isPrime({ n });
  const split = seconds(started);
  console.log(
    `  pool.isPrime(${n}) (prime: ${r.prime}): two nodes ${split.toFixed(2)} s, one worker ${alone.toFixed(2)} s: ${(alone / split).toFixed(2)}x`,
  );
  await stop();
}

async function pi(): Promise<void> {
  console.log("\n== pool.estimatePi: two nodes vs one worker (medians)");
  const { both, one, stop } = await twoNodes();
  const blog = { samples: 12_000_000n, seed: 42n };
  const [two, single] = await sideBySide(both, one, (pool) => pool.estimatePi(blog));
  console.log(
    `  12 M samples (3000 x 4000): two nodes ${(two * 1000).toFixed(1)} ms, one worker ${(single * 1000).toFixed(1)} ms: ${(single / two).toFixed(2)}x`,
  );
  const [twoG, singleG] = await sideBySide(both, one, (pool) =>
    pool.estimatePi({ samples: 1_000_000_000n, seed: 42n }),
  );
  console.log(
    `  10^9 samples: two nodes ${(1e9 / twoG / 1e6).toFixed(0)} M samples/s, one worker ${(1e9 / singleG / 1e6).toFixed(0)} M samples/s: ${(singleG / twoG).toFixed(2)}x`,
  );
  const started = performance.now();
  const big = await both.estimatePi({ samples: 10_000_000_000n, seed: 42n });
  const wall = seconds(started);
  console.log(
    `  10^10 samples, two nodes, once: ${wall.toFixed(2)} s, ${(1e10 / wall / 1e6).toFixed(0)} M samples/s (pi ≈ ${big.pi.toFixed(7)})`,
  );
  await stop();
}

async function tiny(): Promise<void> {
  console.log("\n== 1,000,000 trivial calls (Work.square), pool.map: two nodes vs one node (medians of 3)");
  const { both, one, stop } = await twoNodes();
  const items = Array.from({ length: 1_000_000 }, (_, i) => i);
  const rates: [number[], number[]] = [[], []];
  for (let round = 0; round < 3; round++) {
    for (const [i, pool] of [both, one].entries()) {
      const started = performance.now();
      await pool.map("Work.square", items);
      rates[i as 0 | 1].push(items.length / seconds(started));
    }
  }
  const [two, single] = [median(rates[0]), median(rates[1])];
  console.log(
    `  two nodes ${Math.round(two).toLocaleString("en")} items/s, one node ${Math.round(single).toLocaleString("en")} items/s: ${(two / single).toFixed(2)}x`,
  );
  await stop();
}

async function fetches(): Promise<void> {
  console.log(
    "\n== Fetcher.fetch through the pool, pages answered after 100 ms (page server in its own process)",
  );
  const { both, one, stop } = await twoNodes();
  const pages = await startPageServer(100);
  const urls = (count: number, tag: string) =>
    Array.from({ length: count }, (_, i) => ({ url: `${pages.base}/${tag}${i}` }));
  // Warm-up rounds of the measured shape: they open each node's connections to
  // the page server and let V8 compile the fetch path, so the figures are steady state.
  for (let i = 0; i < 3; i++) {
    for (const pool of [both, one])
      await pool.map(Fetcher.fetch, urls(150, `warm${i}-`), { concurrency: 150 });
  }
  let round = 0;
  const [two, single] = await sideBySide(both, one, (pool) =>
    pool.map(Fetcher.fetch, urls(150, `r${round++}-`), { concurrency: 150 }),
  );
  // The same 150 pages fetched straight from this process with undici, no ferry:
  // what the page server and this machine's cores allow before any node is involved.
  const agent = new Agent({ connections: 1000 });
  const direct = async (tag: string) => {
    await Promise.all(
      urls(150, tag).map(async ({ url }) => (await request(url, { dispatcher: agent })).body.text()),
    );
  };
  const raw: number[] = [];
  for (let i = 0; i < 3 + ROUNDS; i++) {
    const started = performance.now();
    await direct(`d${i}-`);
    if (i >= 3) raw.push(seconds(started));
  }
  await agent.close();
  console.log(
    `  150 pages: two nodes ${two.toFixed(3)} s, one node ${single.toFixed(3)} s, undici from one process without ferry ${median(raw).toFixed(3)} s (floor 0.100 s)`,
  );
  const started = performance.now();
  const many = await both.map(Fetcher.fetch, urls(10_000, "many"), { concurrency: 1000, errors: "return" });
  const wall = seconds(started);
  const failed = many.filter((r) => r instanceof Error).length;
  console.log(
    `  10,000 pages, concurrency 1000, two nodes: ${wall.toFixed(2)} s (${failed} failed; floor 1.0 s)`,
  );
  await pages.stop();
  await stop();
}

async function lazy(): Promise<void> {
  const count = 10_000_000;
  console.log(
    `\n== ${count.toLocaleString("en")} lazily generated items through imapUnordered: client memory`,
  );
  const { both, stop } = await twoNodes();
  function* items() {
    for (let i = 0; i < count; i++) yield i;
  }
  let peak = 0;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const before = process.memoryUsage().rss;
  const started = performance.now();
  let sum = 0;
  for await (const r of both.imapUnordered<number>("Work.square", items())) sum += r;
  const wall = seconds(started);
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    `  ${wall.toFixed(1)} s, ${Math.round(count / wall).toLocaleString("en")} items/s; client RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak ${(peak / 2 ** 20).toFixed(0)} MB (checksum ${sum > 0 ? "ok" : "?"})`,
  );
  await stop();
}

/** How long after a fault the pool has the node out of service. */
async function detection(pool: Pool, target: string, fault: () => void): Promise<number> {
  const started = performance.now();
  fault();
  while (pool.stats().find((s) => s.target === target)?.state === "up") {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return (performance.now() - started) / 1000;
}

async function faults(): Promise<void> {
  console.log(
    "\n== A node lost mid-map (Work.slowSquare, 5 ms each, one per call, 3000 items over three nodes)",
  );
  for (const kind of ["SIGKILL", "SIGSTOP"] as const) {
    const nodes = await Promise.all([0, 1, 2].map(() => startNode(1, ["--load", POOL_FIXTURE])));
    const pool = createPool({ nodes: nodes.map((n) => n.target) });
    await pool.ready();
    const victim = nodes[0] as (typeof nodes)[number];
    const items = Array.from({ length: 3000 }, (_, i) => [i, 5]);
    const started = performance.now();
    const run = pool.starmap<number>("Work.slowSquare", items, { chunkSize: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const detected = await detection(pool, victim.target, () => victim.child.kill(kind));
    const results = await run;
    const wall = seconds(started);
    const correct = results.every((r, i) => r === i * i);
    console.log(
      `  ${kind}: node out of service after ${(detected * 1000).toFixed(0)} ms; map done in ${wall.toFixed(2)} s, ${results.length} results, ${correct ? "all correct" : "WRONG"}`,
    );
    pool.close();
    if (kind === "SIGSTOP") victim.child.kill("SIGCONT");
    for (const n of nodes) if (n !== victim || kind === "SIGSTOP") await stopNode(n.child);
  }
}

/** The registry is consulted for membership only: a pool over etcd calls as fast as one over a list. */
async function registry(): Promise<void> {
  console.log("\n== A pool over etcd vs the same two nodes listed (registry overhead on the data path)");
  const etcd = new EtcdServer();
  await etcd.start();
  const flags = ["--load", POOL_FIXTURE, "--registry", etcd.url];
  const nodes = [await startNode(1, flags), await startNode(1, flags)];
  let started = performance.now();
  const viaEtcd = createPool({ registry: etcd.url });
  await viaEtcd.ready();
  const readyMs = performance.now() - started;
  const listed = createPool(nodes.map((n) => n.target));
  await listed.ready();
  const items = Array.from({ length: 1_000_000 }, (_, i) => i);
  const rates: [number[], number[]] = [[], []];
  const latency: [number[], number[]] = [[], []];
  for (let round = 0; round < 4; round++) {
    // Alternating which goes first, so neither gains from a warmer machine.
    const order: [0 | 1, Pool][] = [
      [0, viaEtcd],
      [1, listed],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [i, pool] of order) {
      started = performance.now();
      await pool.map("Work.square", items);
      rates[i].push(items.length / seconds(started));
      started = performance.now();
      for (let k = 0; k < 1000; k++) await pool.submit("Work.square", [k]);
      latency[i].push((performance.now() - started) / 1000);
    }
  }
  const [etcdRate, listRate] = [median(rates[0]), median(rates[1])];
  const [etcdMs, listMs] = [median(latency[0]), median(latency[1])];
  console.log(`  pool.ready() through etcd: ${readyMs.toFixed(0)} ms (read, watch, Node.Info of each node)`);
  console.log(
    `  1,000,000 trivial calls: etcd ${Math.round(etcdRate).toLocaleString("en")} items/s, list ${Math.round(listRate).toLocaleString("en")} items/s: ${(etcdRate / listRate).toFixed(2)}x`,
  );
  console.log(
    `  pool.submit, sequential: etcd ${(etcdMs * 1000).toFixed(0)} us, list ${(listMs * 1000).toFixed(0)} us per call: ${(etcdMs / listMs).toFixed(2)}x`,
  );
  viaEtcd.close();
  listed.close();
  for (const n of nodes) await stopNode(n.child);
  await etcd.remove();
}

const parts: Record<string, () => Promise<void>> = {
  primes,
  pi,
  tiny,
  fetch: fetches,
  lazy,
  faults,
  registry,
};
const only = process.argv[2];
if (only !== undefined && !(only in parts)) {
  console.error(`unknown part ${only}; parts: ${Object.keys(parts).join(", ")}`);
  process.exit(2);
}
for (const [name, part] of Object.entries(parts)) {
  if (only !== undefined && only !== name) continue;
  if (name === "lazy" && only === undefined) {
    // In a process of its own: client memory is the map's, not what earlier parts left behind.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "lazy"], {
      stdio: "inherit",
    });
    await once(child, "exit");
  } else await part();
}
