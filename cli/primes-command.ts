import type { Command } from "commander";
import type { Dashboard } from "../client/dashboard-server.js";
import { BOOK_NUMBERS } from "../src/book-numbers.js";
import { PrimeCheckerService as PrimeChecker, PrimeMethod } from "../src/gen/ferry/v1/prime.js";
import { largestFirst } from "../src/largest-first.js";
import { messageToJson } from "../src/message-json.js";
import { parseUint64 } from "../src/uint64.js";
import { commandSignal } from "./command-signal.js";
import { dashboardFor } from "./dashboard-flags.js";
import { asUsage, printJson, reportFailure } from "./output.js";
import { type PoolFlags, poolFrom, poolOptions } from "./pool-flags.js";
import { Progress, summaryTable } from "./progress.js";

interface PrimesFlags extends PoolFlags {
  method: string;
}

const METHODS: Record<string, PrimeMethod> = {
  "trial-division": PrimeMethod.PRIME_METHOD_TRIAL_DIVISION,
  "miller-rabin": PrimeMethod.PRIME_METHOD_MILLER_RABIN,
};

/** `ferry primes` */
export function registerPrimes(program: Command): void {
  poolOptions(
    program
      .command("primes")
      .description("check numbers for primality across a pool of nodes (default: Fluent Python's 20 numbers)")
      .argument("[numbers...]", "numbers below 2^64; none: the book's 20"),
  )
    .option("--method <name>", "trial-division or miller-rabin", "trial-division")
    .addHelpText(
      "after",
      `
Sends the largest numbers first (the longest trial divisions) and prints
each number as it is answered (P marks a prime, else its smallest divisor),
the node that checked it, then each node's share.

Examples:
  $ ferry primes --nodes 127.0.0.1:50051,127.0.0.1:50052
  $ ferry primes --nodes 127.0.0.1:50051 --method miller-rabin 97 9999999999999917
  $ ferry primes --nodes 127.0.0.1:50051 --json > primes.jsonl`,
    )
    .action(async (numbers: string[], flags: PrimesFlags) => {
      try {
        await primes(numbers, flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function primes(args: string[], flags: PrimesFlags): Promise<void> {
  const method = METHODS[flags.method];
  if (method === undefined) {
    throw new RangeError(
      `--method must be trial-division or miller-rabin, got ${JSON.stringify(flags.method)}`,
    );
  }
  const numbers =
    args.length === 0 ? BOOK_NUMBERS : asUsage(() => args.map((a, i) => parseUint64(a, `numbers[${i}]`)));
  const pool = poolFrom(flags);
  let dashboard: Dashboard | undefined;
  const signal = commandSignal();
  const progress = new Progress(numbers.length, flags.progress !== false && flags.json !== true);
  const started = performance.now();
  let compute = 0;
  try {
    dashboard = await dashboardFor(pool, flags, "ferry primes");
    // Largest first: the longest trial divisions start early instead of at the tail.
    const requests = largestFirst(numbers).map((n) => ({ n, method }));
    for await (const c of pool.completions(PrimeChecker.isPrime, requests, { signal })) {
      progress.item(c.node, c.ok);
      if (!c.ok) throw c.error;
      compute += c.value.elapsedSeconds;
      if (flags.json) {
        printJson({ ...messageToJson("ferry.v1.IsPrimeResponse", c.value), node: c.node }, true);
      } else {
        progress.end();
        const mark = c.value.prime ? "P" : c.value.divisor === 0n ? " " : `= ${c.value.divisor} x …`;
        process.stdout.write(
          `${String(c.value.n).padStart(20)}  ${mark.padEnd(22)} ${c.value.elapsedSeconds.toFixed(6)}s  ${c.node}\n`,
        );
      }
    }
    progress.end();
    const wall = (performance.now() - started) / 1000;
    if (!flags.json) {
      process.stdout.write(
        `\n${numbers.length} numbers: ${wall.toFixed(3)} s wall, ${compute.toFixed(3)} s of computing (${(compute / wall).toFixed(2)}x)\n\n`,
      );
      process.stdout.write(`${summaryTable(pool.stats(), wall)}\n`);
    }
  } finally {
    progress.end();
    await dashboard?.close();
    pool.close();
  }
}
