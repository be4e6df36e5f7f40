import type { Command } from "commander";
import { createPool, type Pool } from "../client/pool.js";
import { parseMs } from "./output.js";

/** Flags every pool command takes. */
export interface PoolFlags {
  nodes?: string;
  timeout?: string;
  json?: boolean;
  progress?: boolean;
}

/** Adds --nodes, --timeout, --json and --no-progress to a pool command. */
export function poolOptions(command: Command): Command {
  return command
    .requiredOption("--nodes <list>", "the nodes, comma-separated: host:port,host:port")
    .option("--timeout <ms>", "deadline of each item in milliseconds", "30000")
    .option("--json", "print JSON lines for scripts instead of tables")
    .option("--no-progress", "no progress bar on stderr (it shows only on a terminal anyway)");
}

/** The pool the flags name; a malformed or duplicated address is refused here. */
export function poolFrom(flags: PoolFlags): Pool {
  const nodes = (flags.nodes ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (nodes.length === 0) throw new TypeError("--nodes names no node; give host:port,host:port");
  return createPool({ nodes, timeoutMs: parseMs(flags.timeout ?? "30000", "--timeout") });
}

/** Aborts on the first Ctrl-C (in-flight calls are cancelled on their nodes); a second one exits at once. */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
