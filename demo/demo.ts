/**
 * `make demo`: starts a ferry node (the real CLI, as a child process) and a
 * local page server, calls all three objects through typed proxies, prints
 * what they answer, and stops everything.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
// The compiled package, as users run it (`make demo` builds first).
import { connect, PrimeMethod } from "../dist/index.js";
import { BOOK_NUMBERS } from "../src/book-numbers.js";

const TITLES = [
  "Harbour",
  "Tides &amp; Currents",
  "Caf&eacute; on the Quay",
  "Lighthouse",
  "Ferry &#8470; 9",
];

async function main(): Promise<void> {
  // A local page server: nothing leaves this machine.
  const pages = createServer((req, res) => {
    const i = Number(req.url?.slice(1));
    setTimeout(() => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>${TITLES[i % TITLES.length]} (page ${i})</title><p>page ${i}</p>`);
    }, 100);
  });
  await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
  const pageBase = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

  const bin = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));
  const objects = fileURLToPath(new URL("./objects.js", import.meta.url));
  const node = spawn(
    process.execPath,
    [bin, "node", "--port", "0", "--workers", "2", "--json", "--load", objects],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: node.stdout });
  const [first] = (await once(lines, "line")) as [string];
  const { listening } = JSON.parse(first) as { listening: string };
  console.log(`ferry node started: ${listening} (pid ${node.pid})\n`);

  const conn = connect(listening, { defaultTimeoutMs: 60_000 });
  try {
    const info = await conn.node.info({});
    console.log(
      `Node.Info: ${info.hostname}, ferry ${info.version}, ${info.workers} workers, ${info.cores} cores`,
    );
    console.log(`  objects: ${info.objects.map((o) => o.name).join(", ")}\n`);

    console.log("PrimeChecker.IsPrime, trial division, the book's 20 numbers (all in flight at once):");
    let started = performance.now();
    const results = await Promise.all(BOOK_NUMBERS.map((n) => conn.primes.isPrime({ n })));
    const wall = (performance.now() - started) / 1000;
    for (const r of results) {
      const verdict = r.prime ? "prime" : `composite, divisible by ${r.divisor}`;
      console.log(`  ${r.n.toString().padStart(16)}  ${verdict.padEnd(38)} ${r.elapsedSeconds.toFixed(3)} s`);
    }
    const cpu = results.reduce((sum, r) => sum + r.elapsedSeconds, 0);
    console.log(`  wall ${wall.toFixed(3)} s for ${cpu.toFixed(3)} s of worker time\n`);

    started = performance.now();
    const mr = await Promise.all(
      BOOK_NUMBERS.map((n) => conn.primes.isPrime({ n, method: PrimeMethod.PRIME_METHOD_MILLER_RABIN })),
    );
    const agree = mr.every((r, i) => r.prime === results[i]?.prime);
    console.log(
      `PrimeChecker.IsPrime, Miller-Rabin: same verdicts ${agree ? "for all 20" : "NOT for all"}, wall ${((performance.now() - started) * 1000).toFixed(0)} µs\n`,
    );

    const samples = 200_000_000n;
    const pi = await conn.pi.estimate({ samples, seed: 42n });
    console.log(
      `PiEstimator.Estimate: ${samples} samples, seed 42 -> pi ≈ ${pi.pi.toFixed(6)} ± ${pi.stderr.toFixed(6)}` +
        ` in ${pi.elapsedSeconds.toFixed(2)} s (${(Number(samples) / pi.elapsedSeconds / 1e6).toFixed(0)} M samples/s)\n`,
    );

    const urls = Array.from({ length: 20 }, (_, i) => `${pageBase}/${i}`);
    started = performance.now();
    console.log("Fetcher.FetchMany: 20 local pages, each answered after 100 ms, 20 at a time:");
    for await (const r of conn.fetcher.fetchMany({ urls, concurrency: 20 })) {
      if (r.index < 5)
        console.log(`  [${r.index}] ${r.result?.status} "${r.result?.title}" (${r.result?.bytes} bytes)`);
    }
    console.log(`  ... all 20 in ${((performance.now() - started) / 1000).toFixed(3)} s\n`);

    const one = await conn.fetcher.fetch({ url: `${pageBase}/2` });
    console.log(`Fetcher.Fetch: ${one.url} -> ${one.status} "${one.title}"\n`);

    interface Calculator {
      add(a: number, b: number): number;
      countdown(n: number): AsyncGenerator<number>;
      sumWithProgress(
        numbers: number[],
        report: (done: number, total: number) => Promise<void>,
      ): Promise<number>;
    }
    const calc = conn.proxy<Calculator>("Calculator");
    console.log(`Remote object (demo/objects.js, loaded with --load), through one session stream:`);
    console.log(`  calc.add(2, 3) = ${await calc.add(2, 3)}`);
    const counted: number[] = [];
    for await (const n of calc.countdown(5)) counted.push(n);
    console.log(`  for await (calc.countdown(5)) -> ${counted.join(", ")}`);
    const total = await calc.sumWithProgress([10, 20, 30], async (done, sum) => {
      console.log(`  callback from the node: ${done} numbers added, running total ${sum}`);
    });
    console.log(`  calc.sumWithProgress([10, 20, 30], callback) = ${total}`);
    started = performance.now();
    const sums = await Promise.all(Array.from({ length: 10_000 }, (_, i) => calc.add(i, 1)));
    const ms = performance.now() - started;
    console.log(`  10,000 calls issued at once: ${sums.length} answers in ${ms.toFixed(0)} ms\n`);
  } finally {
    conn.close();
    node.kill("SIGTERM");
    const [code] = (await once(node, "exit")) as [number | null];
    pages.close();
    console.log(`ferry node stopped (exit ${code})`);
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
