import type { Command } from "commander";
import type { Dashboard } from "../client/dashboard-server.js";
import { listenAddress } from "../src/bind-address.js";
import { commandSignal } from "./command-signal.js";
import {
  type DashboardServeFlags,
  DEFAULT_DASHBOARD_PORT,
  dashboardServeOptions,
  openDashboard,
} from "./dashboard-flags.js";
import { parseMs, reportFailure } from "./output.js";
import { nodesOptions, type PoolFlags, poolFrom } from "./pool-flags.js";

interface DashboardFlags extends PoolFlags, DashboardServeFlags {
  host: string;
  port: string;
  interval: string;
}

/** `ferry dashboard`: the live cluster in a browser. */
export function registerDashboard(program: Command): void {
  dashboardServeOptions(nodesOptions(program.command("dashboard")))
    .description("serve a live web page of the cluster: nodes, calls/s, p50/p99, workers busy, methods")
    .option("--host <address>", "address the page listens on", "127.0.0.1")
    .option("--port <port>", "port the page listens on (0: any free one)", String(DEFAULT_DASHBOARD_PORT))
    .option("--interval <ms>", "time between samples, and the window of the rates", "1000")
    .addHelpText(
      "after",
      `
Off loopback the page needs HTTPS (--https), the nodes' token (open
http://host:port/?token=… once; a cookie keeps it), or --insecure.

Examples:
  $ ferry dashboard --nodes 127.0.0.1:50051,127.0.0.1:50052
  $ ferry dashboard --registry etcd://10.0.0.2:2379 --where zone=a --port 8265`,
    )
    .action(async (flags: DashboardFlags) => {
      try {
        await dashboard(flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function dashboard(flags: DashboardFlags): Promise<void> {
  const { host, port } = listenAddress("--port", `${flags.host}:${flags.port}`);
  const intervalMs = parseMs(flags.interval, "--interval");
  const pool = poolFrom({ ...flags, timeout: undefined });
  const signal = commandSignal();
  let served: Dashboard | undefined;
  try {
    served = await openDashboard(pool, { host, port, intervalMs }, flags, sourceOf(flags));
    process.stderr.write(`ferry dashboard at ${served.url} (watching ${sourceOf(flags)}); Ctrl-C stops it\n`);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  } finally {
    await served?.close();
    pool.close();
  }
  // Ctrl-C is how one stops the dashboard: not a failure.
  process.exitCode = 0;
}

function sourceOf(flags: PoolFlags): string {
  if (flags.nodes) return flags.nodes;
  const where = flags.where.length > 0 ? ` where ${flags.where.join(",")}` : "";
  return `${flags.registry ?? process.env.FERRY_REGISTRY ?? ""}${where}`;
}
