import type { Command } from "commander";
import { createPool, type Pool } from "../client/pool.js";
import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";
import { parseTags } from "../src/node-record.js";
import { dashboardFlag, dashboardServeOptions } from "./dashboard-flags.js";
import { parseMs, UsageError } from "./output.js";
import { type SecurityFlags, securityFrom, securityOptions } from "./security-flags.js";

/** Flags every pool command takes. */
export interface PoolFlags extends SecurityFlags {
  nodes?: string;
  registry?: string;
  where: string[];
  timeout?: string;
  json?: boolean;
  progress?: boolean;
}

/** Adds the security flags, --nodes, --registry and --where: which nodes a command works with. */
export function nodesOptions(command: Command): Command {
  return securityOptions(command)
    .option("--nodes <list>", "the nodes, comma-separated: host:port or dns:///name:port (every address)")
    .option("--registry <url>", "the nodes registered in etcd (etcd://host:port); env FERRY_REGISTRY")
    .option(
      "--where <key=value>",
      "with --registry: only nodes with this tag; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    );
}

/**
 * Adds the nodes' flags (see {@link nodesOptions}), --timeout, --json,
 * --no-progress and --dashboard to a command that maps over a pool.
 */
export function poolOptions(command: Command): Command {
  return dashboardServeOptions(dashboardFlag(nodesOptions(command)))
    .option("--timeout <ms>", "deadline of each item in milliseconds", String(DEFAULT_TIMEOUT_MS))
    .option("--json", "print JSON lines for scripts instead of tables")
    .option("--no-progress", "no progress bar on stderr (it shows only on a terminal anyway)");
}

/** The pool the flags name; a malformed or duplicated address is refused here. */
export function poolFrom(flags: PoolFlags): Pool {
  const nodes = (flags.nodes ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  const registry =
    flags.registry ?? (nodes.length === 0 ? process.env.FERRY_REGISTRY : undefined) ?? undefined;
  if (nodes.length === 0 && (registry === undefined || registry === "")) {
    throw new UsageError("no nodes: give --nodes host:port,host:port or --registry etcd://host:port");
  }
  const where = flags.where.length > 0 ? parseTags(flags.where, "--where") : undefined;
  if (where && !registry)
    throw new UsageError("--where selects registered nodes by tag: give --registry too");
  return createPool({
    nodes,
    ...(registry ? { registry } : {}),
    ...(where ? { where } : {}),
    timeoutMs: parseMs(flags.timeout ?? String(DEFAULT_TIMEOUT_MS), "--timeout"),
    ...securityFrom(flags),
  });
}
