import type { Command } from "commander";
import { ClusterWatch } from "../client/cluster-watch.js";
import { type Dashboard, serveDashboard } from "../client/dashboard-server.js";
import type { Pool } from "../client/pool.js";
import { isLoopback, listenAddress } from "../src/bind-address.js";
import { type SecurityFlags, securityFrom } from "./security-flags.js";

/** Where the dashboard listens unless told: Ray's port, on loopback. */
export const DEFAULT_DASHBOARD_PORT = 8265;

/** How the page itself is served (the nodes are reached with the security flags). */
export interface DashboardServeFlags extends SecurityFlags {
  https?: string;
  insecure?: boolean;
}

/** Adds --https and --insecure: how the page is served off loopback. */
export function dashboardServeOptions(command: Command): Command {
  return command
    .option("--https <prefix>", "serve the dashboard over HTTPS with <prefix>.pem and <prefix>-key.pem")
    .option(
      "--insecure",
      "serve the dashboard off loopback with neither HTTPS nor a token (trusted networks only)",
    );
}

/**
 * Serves the dashboard of `pool` (its nodes and its own maps) until closed.
 * Off loopback the page is guarded the node's way: HTTPS, the nodes' token,
 * or --insecure.
 */
export async function openDashboard(
  pool: Pool,
  where: { host: string; port: number; intervalMs?: number },
  flags: DashboardServeFlags,
  title: string,
): Promise<Dashboard> {
  const security = securityFrom(flags);
  // On loopback the page is open to this machine, as the node's own ports are.
  const token = isLoopback(where.host) ? undefined : security.token;
  const watch = new ClusterWatch(pool, security);
  try {
    const served = await serveDashboard(
      { sample: () => watch.sample() },
      {
        ...where,
        title,
        ...(flags.https !== undefined
          ? { tls: { cert: `${flags.https}.pem`, key: `${flags.https}-key.pem` } }
          : {}),
        ...(token !== undefined ? { token } : {}),
        insecure: flags.insecure === true,
      },
    );
    return {
      address: served.address,
      url: served.url,
      async close() {
        await served.close();
        watch.close();
      },
    };
  } catch (err) {
    watch.close();
    throw err;
  }
}

/** `--dashboard [address]`: the map's own progress beside the nodes, while the command runs. */
export function dashboardFlag(command: Command): Command {
  return command.option(
    "--dashboard [address]",
    `serve the live dashboard while this runs: the map beside the nodes (default 127.0.0.1:${DEFAULT_DASHBOARD_PORT})`,
  );
}

/** Starts the dashboard a map command's `--dashboard` asks for, if it does. */
export async function dashboardFor(
  pool: Pool,
  flags: DashboardServeFlags & { dashboard?: string | boolean },
  title: string,
): Promise<Dashboard | undefined> {
  if (flags.dashboard === undefined || flags.dashboard === false) return undefined;
  const address = flags.dashboard === true ? String(DEFAULT_DASHBOARD_PORT) : flags.dashboard;
  const served = await openDashboard(pool, listenAddress("--dashboard", address), flags, title);
  process.stderr.write(`ferry dashboard at ${served.url}\n`);
  return served;
}
