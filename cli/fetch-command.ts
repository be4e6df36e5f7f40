import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Dashboard } from "../client/dashboard-server.js";
import { FetcherService as Fetcher } from "../src/gen/ferry/v1/fetch.js";
import { messageToJson } from "../src/message-json.js";
import { commandSignal } from "./command-signal.js";
import { dashboardFor } from "./dashboard-flags.js";
import { parseMs, printJson, readStdin, reportFailure, UsageError } from "./output.js";
import { type PoolFlags, poolFrom, poolOptions } from "./pool-flags.js";
import { formatRate, Progress, summaryTable } from "./progress.js";

interface FetchFlags extends PoolFlags {
  file?: string;
  concurrency: string;
  fetchTimeout?: string;
}

/** `ferry fetch` */
export function registerFetch(program: Command): void {
  poolOptions(
    program
      .command("fetch")
      .description("fetch pages across a pool of nodes and print each one's status and <title>")
      .argument("[urls...]", "http(s) URLs; or --file, or one per line on stdin"),
  )
    .option("--file <path>", "read the URLs from a file, one per line")
    .option("--concurrency <n>", "most fetches in flight across the pool", "100")
    .option("--fetch-timeout <ms>", "time limit of each fetch on its node (default: the node's)")
    .addHelpText(
      "after",
      `
A page that fails (unreachable, too large, timed out) prints its reason; the
others go on.

Examples:
  $ ferry fetch --nodes 127.0.0.1:50051,127.0.0.1:50052 --file urls.txt --concurrency 500
  $ ferry fetch --nodes 127.0.0.1:50051 http://127.0.0.1:8080/ --json`,
    )
    .action(async (urls: string[], flags: FetchFlags) => {
      try {
        await fetchAll(urls, flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function fetchAll(args: string[], flags: FetchFlags): Promise<void> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100_000) {
    throw new RangeError(
      `--concurrency must be an integer from 1 to 100000, got ${JSON.stringify(flags.concurrency)}`,
    );
  }
  const timeoutMs = flags.fetchTimeout === undefined ? 0 : parseMs(flags.fetchTimeout, "--fetch-timeout");
  const text =
    flags.file !== undefined ? await readFile(flags.file, "utf8") : args.length > 0 ? "" : await readStdin();
  const urls = [...args, ...text.split("\n").map((l) => l.trim())].filter(
    (u) => u !== "" && !u.startsWith("#"),
  );
  if (urls.length === 0) throw new UsageError("no URLs: give them as arguments, with --file, or on stdin");
  const pool = poolFrom(flags);
  let dashboard: Dashboard | undefined;
  const signal = commandSignal();
  const progress = new Progress(urls.length, flags.progress !== false && flags.json !== true);
  const started = performance.now();
  let failed = 0;
  try {
    dashboard = await dashboardFor(pool, flags, "ferry fetch");
    const requests = urls.map((url) => ({ url, timeoutMs }));
    for await (const c of pool.completions(Fetcher.fetch, requests, { signal, concurrency })) {
      progress.item(c.node, c.ok);
      const url = urls[c.index];
      if (!c.ok) failed++;
      if (flags.json) {
        const line = c.ok
          ? messageToJson("ferry.v1.FetchResponse", c.value)
          : { url, error: { code: c.error.codeName, message: c.error.details } };
        printJson({ ...line, node: c.node }, true);
        continue;
      }
      progress.end();
      if (c.ok) {
        const r = c.value;
        process.stdout.write(
          `${r.status}  ${(r.elapsedSeconds * 1000).toFixed(0).padStart(5)} ms  ${url}  ${JSON.stringify(r.title)}\n`,
        );
      } else {
        process.stdout.write(`ERR  ${c.error.codeName}  ${url}  ${c.error.details}\n`);
      }
    }
    progress.end();
    const wall = (performance.now() - started) / 1000;
    if (!flags.json) {
      process.stdout.write(
        `\n${urls.length} pages, ${failed} failed: ${wall.toFixed(3)} s, ${formatRate(urls.length / wall)} pages/s\n\n${summaryTable(pool.stats(), wall, "pages")}\n`,
      );
    }
  } finally {
    progress.end();
    await dashboard?.close();
    pool.close();
  }
}
