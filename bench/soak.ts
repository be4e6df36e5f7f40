/**
 * Soak: mixed calls against one node (its own process, 2 workers) for
 * `minutes` (default 10): unary IsPrime and Estimate, a session proxy,
 * pool maps, fetches from a local page server, cancelled calls. Samples the
 * node's RSS, open file descriptors and threads after warm-up, through the
 * run and after it has gone idle, and prints the drift. `make soak`, or
 * `tsx bench/soak.ts [minutes]`. Loopback only; stops by itself.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { connect, createPool, Fetcher, PiEstimator, PrimeChecker } from "../dist/index.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const minutes = Number(process.argv[2] ?? 10);
const sample = (pid: number) => ({
  rssMb: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024,
  fds: readdirSync(`/proc/${pid}/fd`).length,
  threads: readdirSync(`/proc/${pid}/task`).length,
});

const script = `const http = require("node:http");
const server = http.createServer((req, res) => setTimeout(() => { res.writeHead(200, { "content-type": "text/html" }); res.end("<title>soak " + req.url + "</title>"); }, 20));
server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
const page = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
const [port] = (await once(createInterface({ input: page.stdout as NodeJS.ReadableStream }), "line")) as [
  string,
];
const node = await startNode(2, ["--load", FIXTURE, "--fetch-allow", "127.0.0.1/32"]);
const pid = node.child.pid as number;

let calls = 0;
let failures = 0;
const counts = (p: Promise<unknown>) =>
  p.then(
    () => {
      calls++;
    },
    () => {
      failures++;
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
        Array.from({ length: 20 }, (_, k) => ({ url: `http://127.0.0.1:${port}/${i}-${k}` })),
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
await new Promise((resolve) => setTimeout(resolve, 6_000));
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
// Idle: connections close, timers run out.
await new Promise((resolve) => setTimeout(resolve, 6_000));
const after = sample(pid);
const drift = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
console.log(`  ${calls.toLocaleString("en")} call groups answered, ${failures} failed, ${rounds * 4} rounds`);
console.log(
  `  node RSS ${baseline.rssMb.toFixed(0)} MB after warm-up, peak ${peak.rssMb.toFixed(0)} MB, ${after.rssMb.toFixed(0)} MB idle after: drift ${drift(baseline.rssMb, after.rssMb)}`,
);
console.log(
  `  open descriptors ${baseline.fds} -> ${after.fds}; threads ${baseline.threads} -> ${after.threads}`,
);
await stopNode(node.child);
page.kill();
process.exit(0);
