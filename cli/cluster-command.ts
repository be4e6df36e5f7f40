import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { LOG_FORMATS, LOG_LEVELS } from "../src/log.js";
import { reportFailure } from "./output.js";

interface ClusterFlags {
  nodes: string;
  host: string;
  port: string;
  workers?: string;
  load: string[];
  fetchAllow: string[];
  metricsPort?: string;
  logFormat?: string;
  logLevel?: string;
  accessLog?: boolean;
  json?: boolean;
}

interface Started {
  child: ChildProcess;
  listening: string;
  workers: number;
  metrics?: string;
}

/** `ferry cluster` */
export function registerCluster(program: Command): void {
  program
    .command("cluster")
    .description("start several local nodes (one process each) for trying a pool on one machine")
    .option("--nodes <n>", "how many nodes", "2")
    .option("--host <address>", "address every node binds", "127.0.0.1")
    .option("--port <port>", "port of the first node; the others take the next ones (0: free ports)", "50051")
    .option("--workers <n>", "worker threads per node (default: the cores shared out among the nodes)")
    .option(
      "--load <module>",
      "expose a module's objects on every node; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--fetch-allow <cidr>",
      "let every node's Fetcher reach this non-public range (e.g. 127.0.0.1/32); repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--metrics-port <port>",
      "serve each node's Prometheus /metrics: the first on this port, the others on the next ones (0: free ports)",
    )
    .option("--log-format <format>", "every node's log lines: pretty or json")
    .option(
      "--log-level <level>",
      "every node's least severe level written: debug, info, warn, error, silent",
    )
    .option("--access-log", "every node logs each call as it ends")
    .option("--json", "print the nodes as one JSON line")
    .addHelpText(
      "after",
      `
Each node is a separate \`ferry node\` process. Ctrl-C (or SIGTERM) stops them
all, letting in-flight calls finish.

Examples:
  $ ferry cluster --nodes 2                 # 127.0.0.1:50051 and :50052
  $ ferry cluster --nodes 4 --port 0 --json
  $ ferry primes --nodes 127.0.0.1:50051,127.0.0.1:50052`,
    )
    .action(async (flags: ClusterFlags) => {
      try {
        await cluster(flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function cluster(flags: ClusterFlags): Promise<void> {
  const count = Number(flags.nodes);
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new RangeError(`--nodes must be an integer from 1 to 64, got ${JSON.stringify(flags.nodes)}`);
  }
  const base = Number(flags.port);
  if (!Number.isInteger(base) || base < 0 || base + count - 1 > 65535) {
    throw new RangeError(
      `--port must leave room for ${count} ports below 65536, got ${JSON.stringify(flags.port)}`,
    );
  }
  for (const [flag, value, allowed] of [
    ["--log-format", flags.logFormat, LOG_FORMATS],
    ["--log-level", flags.logLevel, LOG_LEVELS],
  ] as const) {
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
      const choices = `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
      throw new RangeError(`${flag} must be ${choices}, got ${JSON.stringify(value)}`);
    }
  }
  const metricsBase = flags.metricsPort === undefined ? undefined : Number(flags.metricsPort);
  if (
    metricsBase !== undefined &&
    (!Number.isInteger(metricsBase) || metricsBase < 0 || metricsBase + count - 1 > 65535)
  ) {
    throw new RangeError(
      `--metrics-port must leave room for ${count} ports below 65536, got ${JSON.stringify(flags.metricsPort)}`,
    );
  }
  const workers = flags.workers ?? String(Math.max(1, Math.floor(availableParallelism() / count)));
  const started: Started[] = [];
  const stopAll = async () => {
    await Promise.all(
      started.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }),
    );
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = base === 0 ? 0 : base + i;
      const metrics = metricsBase === undefined ? undefined : metricsBase === 0 ? 0 : metricsBase + i;
      started.push(await startNode(flags, port, workers, metrics));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const nodes = started.map((s) => s.listening);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        nodes,
        pids: started.map((s) => s.child.pid),
        workers: started.map((s) => s.workers),
        ...(metricsBase === undefined ? {} : { metrics: started.map((s) => s.metrics) }),
      })}\n`,
    );
  } else {
    process.stdout.write(`ferry cluster: ${count} node${count === 1 ? "" : "s"}; Ctrl-C stops them\n`);
    for (const s of started) {
      process.stdout.write(
        `  ${s.listening}  (${s.workers} worker${s.workers === 1 ? "" : "s"}, pid ${s.child.pid}${s.metrics ? `, metrics at http://${s.metrics}/metrics` : ""})\n`,
      );
    }
    process.stdout.write(`--nodes ${nodes.join(",")}\n`);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void stopAll();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await Promise.all(
    started.map(async ({ child, listening }) => {
      const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
      if (!stopping) {
        process.stderr.write(`ferry cluster: node ${listening} exited (${signal ?? `code ${code}`})\n`);
        process.exitCode = 1;
      }
    }),
  );
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
}

/** Starts one `ferry node` child and waits for the address it prints. */
async function startNode(
  flags: ClusterFlags,
  port: number,
  workers: string,
  metricsPort: number | undefined,
): Promise<Started> {
  const args = [process.argv[1] as string, "node", "--host", flags.host, "--port", String(port)];
  args.push("--workers", workers, "--json", ...flags.load.flatMap((file) => ["--load", file]));
  args.push(...flags.fetchAllow.flatMap((range) => ["--fetch-allow", range]));
  if (metricsPort !== undefined) args.push("--metrics", `${flags.host}:${metricsPort}`);
  if (flags.logFormat !== undefined) args.push("--log-format", flags.logFormat);
  if (flags.logLevel !== undefined) args.push("--log-level", flags.logLevel);
  if (flags.accessLog) args.push("--access-log");
  // Its own process group: a Ctrl-C on the terminal reaches only this command, which stops
  // each node with SIGTERM, so their calls in flight finish (--grace).
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`node on port ${port} exited with code ${code} before listening`);
  });
  const first = (async () => {
    for await (const line of lines)
      return JSON.parse(line) as { listening: string; workers: number; metrics?: string };
    throw new Error(`node on port ${port} printed nothing`);
  })();
  const { listening, workers: slots, metrics } = await Promise.race([first, exited]);
  exited.catch(() => {});
  // Keep reading so the child never blocks on a full pipe.
  child.stdout?.resume();
  return { child, listening, workers: slots, ...(metrics ? { metrics } : {}) };
}
