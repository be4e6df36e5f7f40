import type { Command } from "commander";
import type { Dashboard } from "../client/dashboard-server.js";
import { messageToJson } from "../src/message-json.js";
import { parseUint64 } from "../src/uint64.js";
import { commandSignal } from "./command-signal.js";
import { dashboardFor } from "./dashboard-flags.js";
import { asUsage, printJson, reportFailure } from "./output.js";
import { type PoolFlags, poolFrom, poolOptions } from "./pool-flags.js";
import { formatRate, Progress, summaryTable } from "./progress.js";

interface PiFlags extends PoolFlags {
  samples: string;
  seed: string;
}

/** `ferry pi` */
export function registerPi(program: Command): void {
  poolOptions(
    program
      .command("pi")
      .description("estimate pi by Monte Carlo across a pool: samples split over every worker, counts added"),
  )
    .option("--samples <n>", "points to draw; 1e10 and 10000000000 both work", "1e9")
    .option("--seed <n>", "seed of the random streams; the same seed gives the same answer on any pool", "42")
    .addHelpText(
      "after",
      `
Examples:
  $ ferry pi --nodes 127.0.0.1:50051,127.0.0.1:50052 --samples 1e10 --seed 42
  $ ferry pi --nodes 127.0.0.1:50051 --samples 12000000 --json`,
    )
    .action(async (flags: PiFlags) => {
      try {
        await pi(flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

/** An integer written plainly or as 1e10. */
export function parseCount(text: string, name: string): bigint {
  const sci = /^(\d+(?:\.\d+)?)e(\d+)$/i.exec(text.trim());
  if (sci) {
    const [, mantissa = "", exponent = ""] = sci;
    const [whole = "", fraction = ""] = mantissa.split(".");
    const zeros = Number(exponent) - fraction.length;
    if (zeros < 0) throw new RangeError(`${name} must be a whole number, got ${text}`);
    return parseUint64(`${whole}${fraction}${"0".repeat(zeros)}`, name);
  }
  return parseUint64(text, name);
}

async function pi(flags: PiFlags): Promise<void> {
  const samples = asUsage(() => parseCount(flags.samples, "--samples"));
  const seed = asUsage(() => parseUint64(flags.seed, "--seed"));
  const pool = poolFrom(flags);
  let dashboard: Dashboard | undefined;
  const signal = commandSignal();
  const progress = new Progress(Number(samples), flags.progress !== false && flags.json !== true, "samples");
  try {
    dashboard = await dashboardFor(pool, flags, "ferry pi");
    const started = performance.now();
    let counted = 0n;
    const r = await pool.estimatePi(
      { samples, seed },
      {
        signal,
        onProgress: (done, _total, node) => {
          progress.item(node, true, Number(done - counted));
          counted = done;
        },
      },
    );
    progress.end();
    const wall = (performance.now() - started) / 1000;
    const rate = Number(r.samples) / wall;
    if (flags.json) {
      printJson(
        { ...messageToJson("ferry.v1.EstimateResponse", r), samplesPerSecond: Math.round(rate) },
        true,
      );
      return;
    }
    process.stdout.write(
      [
        `pi ≈ ${r.pi.toFixed(10)}  (error ${(r.pi - Math.PI).toExponential(2)}, standard error ${r.stderr.toExponential(2)})`,
        `${r.samples} samples, seed ${r.seed}: ${r.inside} inside`,
        `${wall.toFixed(3)} s, ${formatRate(rate)} samples/s`,
        "",
        summaryTable(pool.stats(), wall, "ranges"),
        "",
      ].join("\n"),
    );
  } finally {
    progress.end();
    await dashboard?.close();
    pool.close();
  }
}
