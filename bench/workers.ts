/**
 * `make bench`, users' code in worker threads: the same module's functions
 * run on the node's event loop (`onMain`) and in its worker threads
 * (`inWorkers`), side by side in one run. Figures, not pass/fail.
 *
 * `tsx bench/workers.ts [busy|health|tiny|deadline|long|crossing|scale]` runs one part
 * (`scale` only on request: it wants more cores than two).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { credentials, Client as GrpcClient } from "@grpc/grpc-js";
// The compiled package, as users run it (`make bench` builds first).
import { checkHealth } from "../dist/client/health-check.js";
import { connect, createPool, type Pool, withOptions } from "../dist/index.js";
import { ServerMessage } from "../dist/src/gen/ferry/v1/objects.js";
import { fromValue, toValue } from "../dist/src/value-codec.js";
import { fmt, measure } from "./measure.js";
import { startNode, stopNode } from "./nodes.js";

const BUSY = new URL("../test/fixtures/busy-objects.js", import.meta.url).pathname;

const seconds = (since: number) => (performance.now() - since) / 1000;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
}

/** `count` nodes of `workers` each, serving the busy module, and a pool over them. */
async function nodes(count: number, workers: number) {
  const started = await Promise.all(
    Array.from({ length: count }, () => startNode(workers, ["--load", BUSY])),
  );
  const pool = createPool({ nodes: started.map((n) => n.target), timeoutMs: 120_000 });
  await pool.ready();
  return {
    pool,
    targets: started.map((n) => n.target),
    stop: async () => {
      pool.close();
      for (const n of started) await stopNode(n.child);
    },
  };
}

/** Median seconds of `map` over `rounds`, main-run and worker-run rounds alternating. */
async function mainVsWorkers(
  pool: Pool,
  method: string,
  items: unknown[],
  rounds: number,
): Promise<[number, number]> {
  await pool.map(`onMain.${method}`, items.slice(0, 4));
  await pool.map(`inWorkers.${method}`, items.slice(0, 4));
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    for (const [i, object] of ["onMain", "inWorkers"].entries()) {
      const began = performance.now();
      await pool.map(`${object}.${method}`, items);
      times[i as 0 | 1].push(seconds(began));
    }
  }
  return [median(times[0]), median(times[1])];
}

async function busy(): Promise<void> {
  console.log(
    "\n== 20 calls of a 100 ms busy loop, pool.map: event loop vs worker threads (medians of 3; floor 1.00 s)",
  );
  const items = Array(20).fill(100);
  for (const [count, workers] of [
    [1, 2],
    [2, 1],
  ] as const) {
    const cluster = await nodes(count, workers);
    const [main, threads] = await mainVsWorkers(cluster.pool, "burn", items, 3);
    console.log(
      `  ${count} node${count > 1 ? "s" : ""} x ${workers} worker${workers > 1 ? "s" : ""}: run "main" ${main.toFixed(3)} s, run "workers" ${threads.toFixed(3)} s: ${(main / threads).toFixed(2)}x`,
    );
    await cluster.stop();
  }
}

async function health(): Promise<void> {
  console.log("\n== Health check and Node.Info while every worker runs user code (1 node, 2 workers)");
  for (const object of ["inWorkers", "onMain"]) {
    const cluster = await nodes(1, 2);
    const target = cluster.targets[0] as string;
    const conn = connect(target);
    const client = new GrpcClient(target, credentials.createInsecure());
    // 20 ms calls, back to back on both workers (or the event loop) while the checks run.
    let running = true;
    const load = (async () => {
      while (running) await cluster.pool.map(`${object}.burn`, Array(20).fill(20));
    })();
    while ((await conn.node.info({})).workersBusy < 2 && object === "inWorkers");
    const checks = await measure(500, 1, () => checkHealth(client, 10_000));
    const infos = await measure(500, 1, () => conn.node.info({}, { timeoutMs: 10_000 }));
    running = false;
    await load;
    console.log(`  run "${object === "inWorkers" ? "workers" : "main"}"  health ${fmt(checks)}`);
    console.log(`  run "${object === "inWorkers" ? "workers" : "main"}"  Node.Info ${fmt(infos)}`);
    client.close();
    conn.close();
    await cluster.stop();
  }
}

async function tiny(): Promise<void> {
  console.log(
    "\n== 1,000,000 trivial calls (square), two nodes x 1 worker: event loop vs worker threads (medians of 3)",
  );
  const cluster = await nodes(2, 1);
  const items = Array.from({ length: 1_000_000 }, (_, i) => i);
  const [main, threads] = await mainVsWorkers(cluster.pool, "square", items, 3);
  const rate = (s: number) => Math.round(items.length / s).toLocaleString("en");
  console.log(
    `  run "main" ${rate(main)} items/s, run "workers" ${rate(threads)} items/s: workers at ${((main / threads) * 100).toFixed(0)}% of main`,
  );
  await cluster.stop();
}

async function deadline(): Promise<void> {
  console.log(
    "\n== A loop that ignores its signal, 200 ms deadline (1 node, 1 worker): answer, and the next call",
  );
  const cluster = await nodes(1, 1);
  const conn = connect(`ferry://${cluster.targets[0]}`);
  const work = conn.proxy<{ square(x: number): number; spin(): void }>("inWorkers");
  await work.square(2);
  const answers: number[] = [];
  const nexts: number[] = [];
  for (let round = 0; round < 5; round++) {
    const began = performance.now();
    await withOptions(work, { timeoutMs: 200 })
      .spin()
      .catch(() => {});
    answers.push(performance.now() - began);
    // Its thread is ended 500 ms after the deadline; this call runs on the new one.
    await work.square(3);
    nexts.push(performance.now() - began);
  }
  console.log(
    `  DEADLINE_EXCEEDED after ${median(answers).toFixed(0)} ms; next call answered ${median(nexts).toFixed(0)} ms after the spin began (deadline + ${(median(nexts) - 200).toFixed(0)} ms, medians of 5)`,
  );
  conn.close();
  await cluster.stop();
}

async function long(): Promise<void> {
  console.log("\n== 20 calls of 2 s each, two nodes x 1 worker");
  const cluster = await nodes(2, 1);
  const began = performance.now();
  const results = await cluster.pool.map<number>("inWorkers.burn", Array(20).fill(2_000));
  console.log(
    `  run "workers": done in ${seconds(began).toFixed(2)} s, ${results.length} results (floor 20.0 s)`,
  );
  const failed = performance.now();
  const error = await cluster.pool.map("onMain.burn", Array(20).fill(2_000)).then(
    () => "completed",
    (err: Error) => err.message,
  );
  console.log(`  run "main": after ${seconds(failed).toFixed(2)} s: ${error}`);
  await cluster.stop();
}

/**
 * What crossing the thread boundary costs the main thread per item of a
 * 2,048-item batch: arguments out as plain values (structured clone), and
 * results back either as plain values the main thread encodes, or as the
 * worker's encoded bytes (transferred), which ferry does.
 */
async function crossing(): Promise<void> {
  console.log(
    "\n== Crossing to a worker thread, 2,048-item batches of one number: main-thread time per item",
  );
  const code = `
    const { parentPort } = require("node:worker_threads");
    parentPort.on("message", ({ mode, args }) => {
      const results = args.map((x) => x * 2);
      if (mode === "clone") parentPort.postMessage(results);
      else { const bytes = new Uint8Array(results.length * 10); parentPort.postMessage(bytes, [bytes.buffer]); }
    });`;
  const worker = new Worker(code, { eval: true });
  const N = 2048;
  const values = Array.from({ length: N }, (_, i) => toValue(i, "a"));
  const decode = () => values.map((v) => fromValue(v, "a"));
  const roundTrip = (message: unknown) =>
    new Promise<unknown>((resolve) => {
      worker.once("message", resolve);
      worker.postMessage(message);
    });
  const encode = (results: number[]) =>
    ServerMessage.encode({
      batchResult: {
        id: 1n,
        outcomes: results.map((r) => ({ value: toValue(r, "r") })),
        error: undefined,
        indexes: [],
        partial: false,
      },
    }).finish();
  const ways: [string, () => Promise<unknown>][] = [
    ["on the main thread (no crossing)", async () => encode(decode().map((x) => (x as number) * 2))],
    [
      "clone both ways, main thread encodes",
      async () => encode((await roundTrip({ mode: "clone", args: decode() })) as number[]),
    ],
    ["clone out, encoded bytes back (ferry)", () => roundTrip({ mode: "bytes", args: decode() })],
  ];
  for (const [label, once] of ways) {
    for (let i = 0; i < 200; i++) await once();
    const rounds = 2000;
    const before = performance.eventLoopUtilization();
    const began = performance.now();
    for (let i = 0; i < rounds; i++) await once();
    const wall = performance.now() - began;
    const active = performance.eventLoopUtilization(before).active;
    const perItem = (ms: number) => ((ms * 1000) / (rounds * N)).toFixed(3);
    console.log(
      `  ${label.padEnd(40)} main thread ${perItem(active)} µs/item, wall ${perItem(wall)} µs/item`,
    );
  }
  await worker.terminate();
}

/** How 64 calls of a 100 ms busy loop scale with a node's worker threads (for machines with many cores). */
async function scale(): Promise<void> {
  const cores = availableParallelism();
  console.log(`\n== 64 calls of a 100 ms busy loop on one node, by --workers (${cores} cores)`);
  const items = Array(64).fill(100);
  let one = 0;
  for (const workers of [1, 2, 4, 8, 16, 32].filter((w) => w <= cores)) {
    const cluster = await nodes(1, workers);
    await cluster.pool.map("inWorkers.burn", Array(workers).fill(10));
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      const began = performance.now();
      await cluster.pool.map("inWorkers.burn", items);
      times.push(seconds(began));
    }
    const t = median(times);
    if (workers === 1) one = t;
    console.log(
      `  --workers ${String(workers).padEnd(2)} ${t.toFixed(3)} s: ${(one / t).toFixed(2)}x (floor ${(6.4 / workers).toFixed(2)} s)`,
    );
    await cluster.stop();
  }
}

const parts: Record<string, () => Promise<void>> = { busy, health, tiny, deadline, long, crossing, scale };
const only = process.argv[2];
if (only !== undefined && !parts[only]) {
  console.error(`bench/workers.ts: no part ${only}; parts: ${Object.keys(parts).join(", ")}`);
  process.exit(2);
}
for (const [name, part] of Object.entries(parts)) {
  if (only === undefined ? name !== "scale" : name === only) await part();
}
process.exit(0);
