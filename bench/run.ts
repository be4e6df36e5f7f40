import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition, Metadata } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
// The compiled package, as users run it (`make bench` builds first): code run
// through tsx carries esbuild's name-keeping helpers on every closure.
import { connect, PrimeMethod } from "../dist/index.js";
import { NodeClient } from "../dist/src/gen/ferry/v1/node.js";
import { BOOK_NUMBERS } from "../src/book-numbers.js";
import { type Figures, fmt, measure, medianFigures as median } from "./measure.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const ROUNDS = 7;

async function proxyVsRaw(): Promise<void> {
  console.log("== Typed proxy vs raw grpc-js, unary Node.Info (node in its own process, 2 workers)");
  const { child, target } = await startNode(2);
  const conn = connect(target);
  const raw = new NodeClient(target, credentials.createInsecure());
  const rawInfo = () =>
    new Promise((resolve, reject) =>
      raw.info({}, new Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const proxyInfo = () => conn.node.info({});
  await measure(2000, 16, rawInfo);
  await measure(2000, 16, proxyInfo);
  for (const [label, total, concurrency] of [
    ["sequential", 4000, 1],
    ["64 in flight", 20000, 64],
  ] as const) {
    // Alternate rounds so drift in the machine's load hits both sides alike,
    // and report each side's median round.
    const rawRuns: Figures[] = [];
    const proxyRuns: Figures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rawRuns.push(await measure(total, concurrency, rawInfo));
      proxyRuns.push(await measure(total, concurrency, proxyInfo));
    }
    const r = median(rawRuns);
    const p = median(proxyRuns);
    console.log(`  ${label.padEnd(13)} raw grpc-js   ${fmt(r)}`);
    console.log(
      `  ${label.padEnd(13)} typed proxy   ${fmt(p)}   proxy/raw throughput ${(p.rate / r.rate).toFixed(3)}`,
    );
  }
  raw.close();
  conn.close();
  await stopNode(child);
}

async function objects(): Promise<void> {
  console.log(
    "\n== Remote object calls through a session (Calculator.add, node in its own process) vs raw grpc-js unary",
  );
  const { child, target } = await startNode(2, ["--load", FIXTURE]);
  const conn = connect(target);
  const calc = conn.proxy<{ add(a: number, b: number): number }>("Calculator");
  const raw = new NodeClient(target, credentials.createInsecure());
  const rawInfo = () =>
    new Promise((resolve, reject) =>
      raw.info({}, new Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const add = () => calc.add(1, 2);
  await measure(5000, 64, add);
  await measure(2000, 1, rawInfo);
  const rows: [string, Figures[], Figures[]][] = [
    ["sequential", [], []],
    ["64 in flight", [], []],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    rows[0]?.[1].push(await measure(4000, 1, rawInfo));
    rows[0]?.[2].push(await measure(10000, 1, add));
    rows[1]?.[1].push(await measure(10000, 64, rawInfo));
    rows[1]?.[2].push(await measure(50000, 64, add));
  }
  for (const [label, rawRuns, proxyRuns] of rows) {
    const r = median(rawRuns);
    const p = median(proxyRuns);
    console.log(`  ${label.padEnd(13)} raw grpc-js unary  ${fmt(r)}`);
    console.log(
      `  ${label.padEnd(13)} session proxy      ${fmt(p)}   session/raw ${(p.rate / r.rate).toFixed(2)}x`,
    );
  }
  const pipelined: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => calc.add(i, 1)));
    pipelined.push(1000 / ((performance.now() - started) / 1000));
  }
  pipelined.sort((a, b) => a - b);
  console.log(
    `  1000 pipelined calls (issued at once): ${Math.round(pipelined[Math.floor(ROUNDS / 2)] ?? 0)} calls/s (median)`,
  );
  raw.close();
  conn.close();
  await stopNode(child);
}

async function sessionMemory(): Promise<void> {
  console.log("\n== 10,000 live session objects, then released (node heap after GC)");
  const fixture = fileURLToPath(new URL("./fixtures/memory-objects.js", import.meta.url));
  const { child, target } = await startNode(1, ["--load", fixture], ["--expose-gc"]);
  const conn = connect(target, { defaultTimeoutMs: 120_000 });
  type Item = { get(): number } & AsyncDisposable;
  const factory = conn.proxy<{ make(): Item; heap(): number }>("factory");
  const warm = await Promise.all(Array.from({ length: 1000 }, () => factory.make()));
  await Promise.all(warm.map((item) => item[Symbol.asyncDispose]()));
  const before = await factory.heap();
  const items: Item[] = [];
  for (let i = 0; i < 10; i++)
    items.push(...(await Promise.all(Array.from({ length: 1000 }, () => factory.make()))));
  const checks = await Promise.all(items.slice(0, 100).map((item) => item.get()));
  const live = await factory.heap();
  await Promise.all(items.map((item) => item[Symbol.asyncDispose]()));
  const after = await factory.heap();
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  console.log(`  before ${mb(before)}, with 10,000 held ${mb(live)}, released ${mb(after)}`);
  console.log(
    `  released vs before: ${(((after - before) / before) * 100).toFixed(1)}% (${checks.length} proxies checked)`,
  );
  conn.close();
  await stopNode(child);
}

async function primes(): Promise<void> {
  console.log("\n== PrimeChecker on one worker (sum of node-side compute time; calls one after another)");
  const { child, target } = await startNode(1);
  const conn = connect(target, { defaultTimeoutMs: 120_000 });
  for (const method of [PrimeMethod.PRIME_METHOD_TRIAL_DIVISION, PrimeMethod.PRIME_METHOD_MILLER_RABIN]) {
    let compute = 0;
    const started = performance.now();
    for (const n of BOOK_NUMBERS) compute += (await conn.primes.isPrime({ n, method })).elapsedSeconds;
    const wall = (performance.now() - started) / 1000;
    const name = method === PrimeMethod.PRIME_METHOD_TRIAL_DIVISION ? "trial division" : "Miller-Rabin  ";
    const computeText = compute < 0.1 ? `${(compute * 1000).toFixed(3)} ms` : `${compute.toFixed(3)} s`;
    console.log(`  ${name} all 20: compute ${computeText}, wall with 20 round trips ${wall.toFixed(3)} s`);
  }
  const one = await conn.primes.isPrime({ n: 9999999999999917n });
  console.log(`  trial division 9999999999999917 alone: ${one.elapsedSeconds.toFixed(3)} s`);
  conn.close();
  await stopNode(child);
}

async function pi(): Promise<void> {
  console.log("\n== PiEstimator samples/s (nodes with 1 and 2 workers, alternating rounds, medians)");
  const samples = 500_000_000n;
  const nodes = [await startNode(1), await startNode(2)];
  const conns = nodes.map((n) => connect(n.target, { defaultTimeoutMs: 120_000 }));
  for (const conn of conns) await conn.pi.estimate({ samples: 50_000_000n, seed: 1n });
  const rates: number[][] = [[], []];
  let estimate = 0;
  for (let round = 0; round < 5; round++) {
    for (const [i, conn] of conns.entries()) {
      const r = await conn.pi.estimate({ samples, seed: 42n });
      rates[i]?.push(Number(samples) / r.elapsedSeconds);
      estimate = r.pi;
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const [one, two] = [med(rates[0] ?? []), med(rates[1] ?? [])];
  console.log(`  1 worker : ${(one / 1e6).toFixed(0)} M samples/s`);
  console.log(`  2 workers: ${(two / 1e6).toFixed(0)} M samples/s (pi ≈ ${estimate.toFixed(6)})`);
  console.log(`  all workers / one worker: ${(two / one).toFixed(2)}x`);
  for (const conn of conns) conn.close();
  for (const n of nodes) await stopNode(n.child);
}

async function healthWhileBusy(): Promise<void> {
  console.log("\n== Health check while every worker is busy (2 workers, 2 long trial divisions running)");
  const { child, target } = await startNode(2);
  const conn = connect(target);
  const ac = new AbortController();
  const busy = [0, 1].map(() =>
    conn.primes
      .isPrime({ n: 18446744073709551557n }, { signal: ac.signal, timeoutMs: 120_000 })
      .catch(() => {}),
  );
  while ((await conn.node.info({})).inFlight < 2) await new Promise((r) => setImmediate(r));
  const pkg = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true })) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: unknown) => HealthClient } } };
  };
  interface HealthClient {
    check(r: object, md: Metadata, o: object, cb: (e: Error | null) => void): void;
    close(): void;
  }
  const health = new pkg.grpc.health.v1.Health(target, credentials.createInsecure());
  const check = () =>
    new Promise<void>((resolve, reject) =>
      health.check({ service: "" }, new Metadata(), { deadline: Date.now() + 5000 }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  const f = await measure(1000, 1, check);
  console.log(`  ${fmt(f)}`);
  ac.abort();
  await Promise.all(busy);
  health.close();
  conn.close();
  await stopNode(child);
}

async function startAndMemory(): Promise<void> {
  console.log("\n== Node start to ready, idle RSS (2 workers)");
  const readies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { child, readyMs } = await startNode(2);
    readies.push(readyMs);
    if (i === 2) {
      await new Promise((r) => setTimeout(r, 1000));
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      console.log(`  idle RSS after 1 s: ${rss.toFixed(0)} MB`);
    }
    await stopNode(child);
  }
  console.log(
    `  start to ready (spawn to listening line): ${readies.map((r) => `${r.toFixed(0)} ms`).join(", ")}`,
  );
}

const only = process.argv[2];
if (only === undefined || only === "proxy") await proxyVsRaw();
if (only === undefined || only === "objects") await objects();
if (only === undefined || only === "memory") await sessionMemory();
if (only === "pi") await pi();
if (only !== undefined) process.exit(0);
await primes();
await pi();
await healthWhileBusy();
await startAndMemory();
