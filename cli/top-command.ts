import type { Command } from "commander";
import { type ClusterSnapshot, ClusterWatch } from "../client/cluster-watch.js";
import { commandSignal, stdoutOpen } from "./command-signal.js";
import { parseMs, printJson, reportFailure } from "./output.js";
import { nodesOptions, type PoolFlags, poolFrom } from "./pool-flags.js";
import { formatRate, formatSeconds } from "./progress.js";
import { securityFrom } from "./security-flags.js";
import { formatTable } from "./table.js";

interface TopFlags extends PoolFlags {
  interval: string;
}

/** Moves to the top left and clears the screen. */
const CLEAR = "\x1b[H\x1b[2J";

/** `ferry top`: the cluster's nodes and methods in the terminal. */
export function registerTop(program: Command): void {
  nodesOptions(program.command("top"))
    .description(
      "the cluster's nodes and methods, redrawn every second: calls/s, errors, p50/p99, workers busy, memory",
    )
    .option("--interval <ms>", "time between redraws, and the window of the rates", "1000")
    .option("--json", "print one snapshot as JSON (rates over one interval) and exit")
    .addHelpText(
      "after",
      `
Examples:
  $ ferry top --nodes 127.0.0.1:50051,127.0.0.1:50052
  $ ferry top --registry etcd://10.0.0.2:2379 --where zone=a
  $ ferry top --nodes 127.0.0.1:50051 --json | jq '.nodes[].rates'`,
    )
    .action(async (flags: TopFlags) => {
      try {
        await top(flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function top(flags: TopFlags): Promise<void> {
  const interval = parseMs(flags.interval, "--interval");
  const pool = poolFrom({ ...flags, timeout: undefined });
  const watch = new ClusterWatch(pool, securityFrom(flags));
  const signal = commandSignal();
  try {
    await pool.ready();
    await watch.sample();
    if (flags.json) {
      await pause(interval, signal);
      if (!signal.aborted) printJson(await watch.sample(), false);
      return;
    }
    const terminal = process.stdout.isTTY === true;
    while (!signal.aborted && stdoutOpen()) {
      await pause(interval, signal);
      if (signal.aborted) break;
      const screen = render(await watch.sample(), interval);
      process.stdout.write(terminal ? `${CLEAR}${screen}` : `${screen}\n`);
    }
  } finally {
    watch.close();
    pool.close();
  }
  // Ctrl-C is how one leaves top: not a failure.
  process.exitCode = 0;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

const ms = (seconds: number) =>
  seconds === 0 ? "-" : Number.isFinite(seconds) ? `${+(seconds * 1000).toPrecision(3)} ms` : "> 60 s";
const mb = (bytes: number) => (bytes === 0 ? "-" : `${Math.round(bytes / 1024 / 1024)} MB`);

/** One screen: a line for the cluster, a table of nodes, a table of methods (busiest first). */
export function render(snapshot: ClusterSnapshot, intervalMs: number): string {
  const up = snapshot.nodes.filter((n) => n.state === "up").length;
  const total = snapshot.nodes.reduce((sum, n) => sum + n.rates.callsPerSecond, 0);
  const head = `ferry top  ${new Date(snapshot.at).toISOString().slice(11, 19)}  ${up}/${snapshot.nodes.length} nodes up  ${formatRate(total)} calls/s  (rates over ${intervalMs} ms; Ctrl-C quits)`;
  const nodes = formatTable(
    ["node", "state", "calls/s", "errors/s", "p50", "p99", "busy", "queued", "in flight", "rss", "uptime"],
    snapshot.nodes.map((n) => [
      n.target,
      n.state === "down" && n.error ? `down: ${n.error.slice(0, 40)}` : n.state,
      formatRate(n.rates.callsPerSecond),
      formatRate(n.rates.errorsPerSecond),
      ms(n.rates.p50),
      ms(n.rates.p99),
      `${n.workersBusy}/${n.workers}`,
      String(n.tasksQueued),
      String(n.inFlight),
      mb(n.rssBytes),
      n.uptimeSeconds === 0 ? "-" : formatSeconds(n.uptimeSeconds),
    ]),
  );
  const busiest = [...snapshot.methods]
    .filter((m) => m.callsPerSecond > 0)
    .sort((a, b) => b.callsPerSecond - a.callsPerSecond);
  const methods =
    busiest.length === 0
      ? ["(no calls in this interval)"]
      : formatTable(
          ["method", "calls/s", "errors/s", "p50", "p99"],
          busiest.map((m) => [
            `${m.object}.${m.method}`,
            formatRate(m.callsPerSecond),
            formatRate(m.errorsPerSecond),
            ms(m.p50),
            ms(m.p99),
          ]),
        );
  const problems = snapshot.problems.map((p) => `${p} (retrying; the last node list stands)`);
  return [head, ...problems, "", ...nodes, "", ...methods, ""].join("\n");
}
