/**
 * `make demo`: the whole story on one machine. Starts two ferry nodes (the
 * real CLI, `ferry cluster`, one process each) and a local page server, then
 * maps the book's 20 numbers across both nodes, estimates pi with 10^9
 * samples, fetches 150 slow pages, calls an exposed object through a proxy,
 * maps a user's own CPU-bound function over both nodes' worker threads, and
 * stops everything.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
// The compiled package, as users run it (`make demo` builds first).
import { type Completion, connect, createPool, Fetcher, PrimeChecker } from "../dist/index.js";
import { BOOK_NUMBERS } from "../src/book-numbers.js";
import type { IsPrimeResponse } from "../src/gen/ferry/v1/prime.js";
import { largestFirst } from "../src/largest-first.js";
// @ts-expect-error a JavaScript module without types: the demo's own objects.
import { scoreHere } from "./objects.js";
import { startPageServer } from "./pages.js";

interface Calculator {
  add(a: number, b: number): number;
  square(x: number): number;
  countdown(n: number): AsyncGenerator<number>;
  sumWithProgress(numbers: number[], report: (done: number, total: number) => Promise<void>): Promise<number>;
}

const seconds = (since: number) => (performance.now() - since) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  // A local page server, in its own process, that answers each page after 100 ms: nothing leaves this machine.
  const pages = await startPageServer(100);
  const pageBase = pages.base;

  const bin = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));
  const objects = fileURLToPath(new URL("./objects.js", import.meta.url));
  const cluster = spawn(
    process.execPath,
    [
      bin,
      "cluster",
      "--nodes",
      "2",
      "--port",
      "0",
      "--workers",
      "1",
      "--json",
      "--load",
      objects,
      "--fetch-allow",
      "127.0.0.1/32",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: cluster.stdout });
  const [first] = (await once(lines, "line")) as [string];
  const { nodes } = JSON.parse(first) as { nodes: string[] };
  console.log(`$ ferry cluster --nodes 2   ->  ${nodes.join(", ")} (one worker each)\n`);

  const pool = createPool({ nodes, timeoutMs: 60_000 });
  const single = createPool([nodes[0] as string]);
  try {
    await pool.ready();
    // A first call per node: worker threads compile their kernels once.
    await pool.map(PrimeChecker.isPrime, [{ n: 97n }, { n: 89n }, { n: 83n }, { n: 79n }]);

    // Largest first, as `ferry primes` does: the longest checks start early, not at the tail.
    const requests = largestFirst(BOOK_NUMBERS).map((n) => ({ n }));
    // Three rounds each way, alternating, and the medians: one round on two
    // busy cores swings by a tenth of a second either way.
    const oneWorkerRounds: number[] = [];
    const twoNodeRounds: number[] = [];
    let checked: Completion<IsPrimeResponse>[] = [];
    let started: number;
    for (let round = 0; round < 3; round++) {
      started = performance.now();
      await single.map(PrimeChecker.isPrime, requests);
      oneWorkerRounds.push(seconds(started));
      started = performance.now();
      checked = [];
      for await (const c of pool.completions(PrimeChecker.isPrime, requests)) checked.push(c);
      twoNodeRounds.push(seconds(started));
    }
    const oneWorker = median(oneWorkerRounds);
    const wall = median(twoNodeRounds);
    // Back in the book's (ascending) order: the reverse of the order sent.
    checked.sort((a, b) => b.index - a.index);
    console.log("The book's 20 numbers, trial division, mapped across both nodes:");
    for (const c of checked) {
      if (!c.ok) throw c.error;
      const r = c.value;
      const verdict = r.prime ? "P" : `= ${r.divisor} x ...`;
      console.log(
        `  ${r.n.toString().padStart(16)}  ${verdict.padEnd(20)} ${r.elapsedSeconds.toFixed(6)} s  ${c.node}`,
      );
    }
    console.log(
      `  total ${wall.toFixed(3)} s on two nodes; ${oneWorker.toFixed(3)} s on one worker: ${(oneWorker / wall).toFixed(2)}x (medians of 3 rounds)\n`,
    );

    started = performance.now();
    const pi = await pool.estimatePi({ samples: 1_000_000_000n, seed: 42n });
    const piSeconds = seconds(started);
    console.log(
      `pool.estimatePi, 10^9 samples, seed 42: pi ≈ ${pi.pi.toFixed(6)} ± ${pi.stderr.toFixed(6)}` +
        ` in ${piSeconds.toFixed(2)} s (${(1e9 / piSeconds / 1e6).toFixed(0)} M samples/s across both nodes)\n`,
    );

    const urls = Array.from({ length: 150 }, (_, i) => ({ url: `${pageBase}/${i}` }));
    // A first round opens each node's connections to the page server; the next three are timed.
    let fetched = await pool.map(Fetcher.fetch, urls, { concurrency: 150 });
    const fetchRounds: number[] = [];
    for (let round = 0; round < 3; round++) {
      started = performance.now();
      fetched = await pool.map(Fetcher.fetch, urls, { concurrency: 150 });
      fetchRounds.push(seconds(started));
    }
    console.log(
      `150 pages, each answered after 100 ms, fetched through both nodes in ${median(fetchRounds).toFixed(3)} s (median of 3 rounds, connections open):`,
    );
    for (const r of fetched.slice(0, 3)) console.log(`  ${r.status} "${r.title}" (${r.bytes} bytes)`);
    console.log("  ...\n");

    const conn = connect(nodes[0] as string);
    try {
      const calc = conn.proxy<Calculator>("Calculator");
      console.log("An exposed object (demo/objects.js, loaded with --load), through a proxy:");
      console.log(`  calc.add(2, 3) = ${await calc.add(2, 3)}`);
      const counted: number[] = [];
      for await (const n of calc.countdown(5)) counted.push(n);
      console.log(`  for await (calc.countdown(5)) -> ${counted.join(", ")}`);
      const total = await calc.sumWithProgress([10, 20, 30], async (done, sum) => {
        console.log(`  callback from the node: ${done} numbers added, running total ${sum}`);
      });
      console.log(`  calc.sumWithProgress([10, 20, 30], callback) = ${total}`);
    } finally {
      conn.close();
    }
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    started = performance.now();
    const squares = await pool.map<number>("Calculator.square", items);
    const tinySeconds = seconds(started);
    console.log(
      `  pool.map("Calculator.square", 200,000 numbers): ${squares.length} results in ${tinySeconds.toFixed(3)} s` +
        ` (${Math.round(items.length / tinySeconds).toLocaleString("en")} items/s)\n`,
    );
    await userCode(pool, nodes);

    console.log("Per node:");
    for (const s of pool.stats()) {
      console.log(
        `  ${s.target}  ${s.items} items, busy ${(s.busyMs / 1000).toFixed(2)} s, ${s.failures} failures`,
      );
    }
  } finally {
    pool.close();
    single.close();
    cluster.kill("SIGTERM");
    const [code] = (await once(cluster, "exit")) as [number | null];
    await pages.stop();
    console.log(`\nferry cluster stopped (exit ${code})`);
  }
}

/**
 * A user's own function (demo/objects.js `scoring.score`), called 20 times:
 * here, one after another; mapped over both nodes' worker threads; and on
 * the nodes' event loops, while Node.Info is asked how long it takes to answer.
 */
async function userCode(pool: ReturnType<typeof createPool>, nodes: string[]): Promise<void> {
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
  await pool.map("scoring.score", seeds.slice(0, 4));
  await pool.map("scoringOnMain.score", seeds.slice(0, 4));
  let started = performance.now();
  const expected = seeds.map((seed) => scoreHere(seed) as number);
  const here = seconds(started);
  const conn = connect(nodes[0] as string);
  const timed = async (method: string) => {
    let worst = 0;
    let mapping = true;
    const probe = (async () => {
      while (mapping) {
        const asked = performance.now();
        await conn.node.info({}, { timeoutMs: 10_000 });
        worst = Math.max(worst, performance.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const rounds: number[] = [];
    let results: number[] = [];
    for (let round = 0; round < 3; round++) {
      started = performance.now();
      results = await pool.map<number>(method, seeds);
      rounds.push(seconds(started));
    }
    mapping = false;
    await probe;
    if (results.some((r, i) => r !== expected[i])) throw new Error(`${method} answered other checksums`);
    return { wall: median(rounds), worst };
  };
  try {
    const workers = await timed("scoring.score");
    const main = await timed("scoringOnMain.score");
    console.log('Your own code (demo/objects.js: scoring.score, exposed with run: "workers"), 20 calls:');
    console.log(`  here, one after another:               ${here.toFixed(3)} s`);
    console.log(
      `  pool.map over both nodes' workers:     ${workers.wall.toFixed(3)} s: ${(here / workers.wall).toFixed(2)}x; Node.Info answered within ${workers.worst.toFixed(0)} ms meanwhile`,
    );
    console.log(
      `  the same without run, on the nodes' event loops: ${main.wall.toFixed(3)} s, and Node.Info waited up to ${main.worst.toFixed(0)} ms (medians of 3 rounds)\n`,
    );
  } finally {
    conn.close();
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
