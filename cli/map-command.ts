import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { Dashboard } from "../client/dashboard-server.js";
import { RemoteError } from "../client/remote-error.js";
import { messageToJson } from "../src/message-json.js";
import { asRequest, parseArgument } from "./call-command.js";
import { commandSignal } from "./command-signal.js";
import { dashboardFor } from "./dashboard-flags.js";
import { plain, reportFailure } from "./output.js";
import { type PoolFlags, poolFrom, poolOptions } from "./pool-flags.js";
import { Progress, summaryTable } from "./progress.js";
import { resolveMethod } from "./resolve-method.js";

interface MapFlags extends PoolFlags {
  input?: string;
  keepGoing?: boolean;
}

/** `ferry map` */
export function registerMap(program: Command): void {
  poolOptions(
    program
      .command("map")
      .description(
        "call a method once per input line across a pool; print one JSON result per line, in input order",
      )
      .argument("<method>", "Service.Method of a typed service (PrimeChecker.IsPrime) or object.method"),
  )
    .option("--input <path>", "read items from a file instead of stdin")
    .option(
      "--keep-going",
      'print {"error":…} in place of a failed item and go on (default: stop at the first)',
    )
    .addHelpText(
      "after",
      `
Each input line is one item: for a typed method its request as JSON, or a bare
value for the request's first field (a number for PrimeChecker.IsPrime); for
an exposed object's method its one argument as JSON (or a plain word).
Lines are read as the pool needs them, so the input may be endless.

Examples:
  $ seq 1000000 | ferry map --nodes 127.0.0.1:50051,127.0.0.1:50052 PrimeChecker.IsPrime > results.jsonl
  $ ferry map --nodes 127.0.0.1:50051 Calculator.square --input numbers.txt`,
    )
    .action(async (method: string, flags: MapFlags) => {
      try {
        await mapLines(method, flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

/** How a line becomes an item and a result becomes a line, for the method named. */
function codecFor(name: string): {
  method: string;
  item: (line: string) => unknown;
  line: (v: unknown) => unknown;
} {
  if (/^[A-Z]\w*\.[A-Z]\w*$/.test(name) || name.startsWith("ferry.v1.")) {
    const resolved = resolveMethod(name);
    return {
      method: `${resolved.service}.${resolved.key}`,
      item: (line) => asRequest(resolved, parseArgument(line, "an input line")),
      line: (v) => messageToJson(resolved.responseType, v),
    };
  }
  return { method: name, item: (line) => parseArgument(line, "an input line"), line: plain };
}

async function mapLines(name: string, flags: MapFlags): Promise<void> {
  const codec = codecFor(name);
  const pool = poolFrom(flags);
  let dashboard: Dashboard | undefined;
  const signal = commandSignal();
  const progress = new Progress(undefined, flags.progress !== false, "", () => pool.stats());
  const started = performance.now();
  const input = createInterface({
    input: flags.input === undefined ? process.stdin : createReadStream(flags.input),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  // Iterate at once: readline drops lines that arrive before its iterator exists,
  // and the pool asks for the first item only after the nodes have answered.
  const lines = input[Symbol.asyncIterator]();
  async function* items() {
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      if (next.value.trim() !== "") yield codec.item(next.value);
    }
  }
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
    out.length = 0;
  };
  // Lines go out as results come (a slow map's first line at once, for `| head`),
  // the ones that arrive together in one write.
  let flushing = false;
  const soon = () => {
    if (flushing) return;
    flushing = true;
    setImmediate(() => {
      flushing = false;
      flush();
    });
  };
  try {
    dashboard = await dashboardFor(pool, flags, `ferry map ${name}`);
    const results = pool.imap(codec.method, items(), { signal, errors: "return" });
    for await (const r of results) {
      const failed = r instanceof RemoteError;
      progress.item("", !failed);
      if (failed && !flags.keepGoing) {
        flush();
        throw r;
      }
      out.push(JSON.stringify(failed ? { error: { code: r.codeName, message: r.details } } : codec.line(r)));
      if (out.length >= 1024) flush();
      else soon();
    }
    flush();
    progress.end();
    if (flags.progress !== false && process.stderr.isTTY) {
      process.stderr.write(`${summaryTable(pool.stats(), (performance.now() - started) / 1000)}\n`);
    }
  } catch (err) {
    flush();
    throw err;
  } finally {
    progress.end();
    input.close();
    await dashboard?.close();
    pool.close();
  }
}
