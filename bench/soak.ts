/**
 * Soak: mixed calls against one node (its own process, 2 workers) for
 * `minutes` (default 10): unary IsPrime and Estimate, a session proxy,
 * pool maps, fetches from a local page server, cancelled calls. Samples the
 * node's RSS, open file descriptors and threads after warm-up, through the
 * run and after it has gone idle, and prints the drift. `make soak`, or
 * `tsx bench/soak.ts [minutes]`. Loopback only; stops by itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startPageServer } from "../demo/pages.js";
import { connect, createPool, Fetcher, PiEstimator, PrimeChecker } from "../dist/index.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const minutes = Number(process.argv[2] ?? 10);
const sample = (pid: number) => ({
  rssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
  fds: readdirSync(`/proc/${pid}/fd`).length,
  threads: readdirSync(`/proc/${pid}/task`).length,
});

const pages = await startPageServer(20);
// --expose-gc and the memory fixture let the soak read live heap after a full collection:
// RSS alone moves with the collector's mood, the live heap only with what is kept.
const MEMORY_FIXTURE = fileURLToPath(new URL("./fixtures/memory-objects.js", import.meta.url));
const node = await startNode(
  2,
  ["--load", FIXTURE, "--load", MEMORY_FIXTURE, "--fetch-allow", "127.0.0.1/32"],
  ["--expose-gc"],
);
const pid = node.child.pid as number;
// On a channel of its own (other channel options): a connection held open for
// the whole run would carry every round's unary calls, whose cancellations
// (about 130 stream resets a second) Node's HTTP/2 server answers by closing
// it after a thousand; see "Limits" in the README.
const probe = connect(node.target, { maxMessageBytes: 4 * 1024 * 1024 + 1 }).proxy<{ heap(): number }>(
  "factory",
);
const liveHeapMb = async () => (await probe.heap()) / 1024 / 1024;

/** Quiet time before each sample. */
const IDLE_MS = 20_000;

let calls = 0;
let failures = 0;
/** Failures by what they said, to print the commonest. */
const failed = new Map<string, number>();
const counts = (p: Promise<unknown>) =>
  p.then(
    () => {
      calls++;
    },
    (err: unknown) => {
      failures++;
      const what = err instanceof Error ? err.message.slice(0, 160) : String(err);
      failed.set(what, (failed.get(what) ?? 0) + 1);
    },
  );

/** One round of every kind of call, each on a fresh or shared client as users would. */
async function round(i: number): Promise<void> {
  const conn = connect(node.target);
  const calc = conn.proxy<{ add(a: number, b: number): number }>("Calculator");
  const pool = createPool([node.target]);
  const cancelled = new AbortController();
  const work: Promise<unknown>[] = [
    counts(conn.service(PrimeChecker).isPrime({ n: 1_000_003n + BigInt(i) })),
    counts(conn.service(PiEstimator).estimate({ samples: 1_000_000n, seed: BigInt(i), firstBlock: 0n })),
    counts(Promise.all(Array.from({ length: 50 }, (_, k) => calc.add(i, k)))),
    counts(
      pool.map(
        "Calculator.add",
        [[1, 2]].map((args) => args[0]),
      ),
    ),
    counts(
      pool.map(
        Fetcher.fetch,
        Array.from({ length: 20 }, (_, k) => ({ url: `${pages.base}/${i}-${k}` })),
        { concurrency: 20 },
      ),
    ),
    // Cancelled mid-way: the node must free what it held.
    conn
      .service(PrimeChecker)
      .isPrime({ n: 18446744073709551557n }, { signal: cancelled.signal })
      .catch(() => {}),
  ];
  setTimeout(() => cancelled.abort(), 5);
  await Promise.all(work);
  pool.close();
  conn.close();
}

// Warm-up (a tenth of the run: heaps and pools reach their working size), then the baseline.
let rounds = 0;
const warmUntil = Date.now() + minutes * 6_000;
while (Date.now() < warmUntil) {
  await Promise.all(Array.from({ length: 4 }, (_, k) => round(rounds * 4 + k)));
  rounds++;
}
// Idle long enough for V8's memory reducer to give back what the warm-up's peak took.
await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
const baselineHeap = await liveHeapMb();
const baseline = sample(pid);
const until = Date.now() + minutes * 60_000;
let peak = baseline;
console.log(
  `\n== Soak: mixed calls for ${minutes} min against one node (2 workers), after ${(minutes * 6).toFixed(0)} s of warm-up`,
);
while (Date.now() < until) {
  await Promise.all(Array.from({ length: 4 }, (_, k) => round(rounds * 4 + k)));
  rounds++;
  if (rounds % 25 === 0) {
    const s = sample(pid);
    if (s.rssMb > peak.rssMb) peak = s;
  }
}
// Idle as long: connections close, timers run out, the heap shrinks back.
await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
const afterHeap = await liveHeapMb();
const after = sample(pid);
const drift = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
console.log(`  ${calls.toLocaleString("en")} call groups answered, ${failures} failed, ${rounds * 4} rounds`);
for (const [what, count] of [...failed].sort((a, b) => b[1] - a[1]).slice(0, 3)) {
  console.log(`    ${count} x ${what}`);
}
console.log(
  `  node RSS ${baseline.rssMb.toFixed(0)} MB after warm-up, peak ${peak.rssMb.toFixed(0)} MB, ${after.rssMb.toFixed(0)} MB idle after: drift ${drift(baseline.rssMb, after.rssMb)}`,
);
console.log(
  `  live heap after a full collection ${baselineHeap.toFixed(1)} MB after warm-up, ${afterHeap.toFixed(1)} MB idle after: drift ${drift(baselineHeap, afterHeap)}`,
);
console.log(
  `  open descriptors ${baseline.fds} -> ${after.fds}; threads ${baseline.threads} -> ${after.threads} (the probe's connection counted in both)`,
);
await stopNode(node.child);
await pages.stop();
process.exit(0);
