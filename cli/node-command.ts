import type { Command } from "commander";
import { parseTarget } from "../client/target.js";
import { createNode } from "../server/create-node.js";
import { loadObjects } from "../server/load-objects.js";
import { registryTtlSeconds } from "../server/node-options.js";
import type { LogFormat, LogLevel } from "../src/log.js";
import { parseTags } from "../src/node-record.js";
import { asUsage, inFlags, parseNumber, reportFailure, UsageError } from "./output.js";
import { parseCount as parseSamples } from "./pi-command.js";
import { readToken } from "./security-flags.js";

interface NodeFlags {
  host: string;
  port: string;
  workers?: string;
  maxSamples?: string;
  fetchTimeout?: string;
  grace: string;
  exposeStacks?: boolean;
  json?: boolean;
  load: string[];
  registry?: string;
  advertise?: string;
  tag: string[];
  ttl: string;
  tls?: string;
  clientCa?: string;
  tokenFile?: string;
  insecure?: boolean;
  fetchAllow: string[];
  maxInFlight?: string;
  maxConnections?: string;
  handshakeTimeout?: string;
  metrics?: string;
  logFormat?: string;
  logLevel?: string;
  accessLog?: boolean;
}

const repeat = (value: string, previous: string[]) => [...previous, value];

/** `ferry node` */
export function registerNode(program: Command): void {
  program
    .command("node")
    .description("serve PrimeChecker, PiEstimator and Fetcher (plus health and reflection) on this machine")
    .option(
      "--host <address>",
      "address to bind; other machines reach the node only if this is not loopback",
      "127.0.0.1",
    )
    .option("--port <port>", "port to bind; 0 picks a free one and prints it", "50051")
    .option("--workers <n>", "worker threads for CPU-bound calls (default: the machine's cores)")
    .option("--max-samples <n>", "most samples one PiEstimator call may ask for (default 100000000000)")
    .option("--fetch-timeout <ms>", "default time limit of one fetch (default 10000)")
    .option("--max-in-flight <n>", "most calls served at once; more get RESOURCE_EXHAUSTED (default 50000)")
    .option("--max-connections <n>", "most client connections held at once; more are closed (default 10000)")
    .option(
      "--handshake-timeout <ms>",
      "a connection that has not finished its TLS/HTTP/2 handshake by then is closed (default 10000)",
    )
    .option("--grace <ms>", "on SIGINT/SIGTERM, time in-flight calls get to finish", "10000")
    .option("--expose-stacks", "send unknown errors' messages and stacks to callers (development only)")
    .option("--json", "print the listening address as one JSON line")
    .option(
      "--load <module>",
      "expose a module's objects (exports with an `exposed` list of methods); repeatable",
      repeat,
      [] as string[],
    )
    .option("--registry <url>", "register in etcd (etcd://host:port[,host:port]); env FERRY_REGISTRY")
    .option("--advertise <host:port>", "address registered for clients (default: the bound one)")
    .option("--tag <key=value>", "tag clients select nodes by (--where); repeatable", repeat, [] as string[])
    .option("--ttl <seconds>", "registry lease TTL: how long a crashed node stays listed", "5")
    .option(
      "--tls <prefix>",
      "serve TLS with certificate <prefix>.pem and key <prefix>-key.pem (reread every minute)",
    )
    .option("--client-ca <file>", "mutual TLS: admit only clients with a certificate signed by this CA")
    .option(
      "--token-file <file>",
      "require this shared token on every call but health (default: FERRY_TOKEN)",
    )
    .option("--insecure", "allow a non-loopback --host with neither TLS nor a token (trusted networks only)")
    .option("--log-format <format>", "pretty (lines for people, the default) or json (one object a line)")
    .option("--log-level <level>", "least severe level logged: debug, info (default), warn, error or silent")
    .option("--access-log", "log every call as it ends: object, method, code, duration, peer")
    .option(
      "--metrics <host:port>",
      "serve Prometheus metrics at http://<host:port>/metrics (a port alone: loopback)",
    )
    .option(
      "--fetch-allow <cidr>",
      "let Fetcher reach this non-public range (e.g. 127.0.0.1/32); repeatable",
      repeat,
      [] as string[],
    )
    .addHelpText(
      "after",
      `
Examples:
  $ ferry node                              # 127.0.0.1:50051, one worker per core
  $ ferry node --port 50052 --workers 2
  $ ferry node --host 0.0.0.0 --port 50051  # reachable from other machines
  $ ferry node --port 0 --json              # {"listening":"127.0.0.1:41234",...}
  $ ferry node --load ./objects.js          # also serve the module's exposed objects
  $ ferry node --metrics 9464               # Prometheus scrapes http://127.0.0.1:9464/metrics
  $ ferry node --host 0.0.0.0 --registry etcd://10.0.0.2:2379 --tag zone=a`,
    )
    .action(async (flags: NodeFlags) => {
      try {
        await serve(flags);
      } catch (err) {
        reportFailure(inFlags(err, FLAGS));
      }
    });
}

/**
 * The flag that sets each node option with a range, by the option's path in
 * NodeOptions. createNode checks them, each once; its OptionError is told
 * with the flag (`--port must be …`, not `port must be …`).
 */
const FLAGS: Readonly<Record<string, string>> = {
  port: "--port",
  workers: "--workers",
  "limits.maxSamples": "--max-samples",
  "limits.maxCallsInFlight": "--max-in-flight",
  "limits.maxConnections": "--max-connections",
  "limits.handshakeTimeoutMs": "--handshake-timeout",
  "limits.graceMs": "--grace",
  "fetch.timeoutMs": "--fetch-timeout",
  "registry.ttlSeconds": "--ttl",
  metrics: "--metrics",
  logFormat: "--log-format",
  logLevel: "--log-level",
};

/** A number flag, or undefined when not given; its range is the node option's to check. */
function numberFlag(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseNumber(text, flag);
}

async function serve(flags: NodeFlags): Promise<void> {
  const url = flags.registry ?? process.env.FERRY_REGISTRY;
  const ttlSeconds = parseNumber(flags.ttl, "--ttl");
  if (flags.advertise !== undefined) parseTarget(flags.advertise);
  const tags = parseTags(flags.tag, "--tag");
  if (flags.clientCa !== undefined && flags.tls === undefined) {
    throw new UsageError("--client-ca (mutual TLS) needs --tls: the node's own certificate");
  }
  const registry =
    url === undefined || url === "" ? undefined : { url, advertise: flags.advertise, tags, ttlSeconds };
  // Not registering, --ttl is still held to the registry's rule: a mistake is never silently ignored.
  if (registry === undefined) registryTtlSeconds(ttlSeconds);
  const graceMs = parseNumber(flags.grace, "--grace");
  const node = createNode({
    host: flags.host,
    port: parseNumber(flags.port, "--port"),
    workers: numberFlag(flags.workers, "--workers"),
    exposeStacks: flags.exposeStacks === true,
    limits: {
      graceMs,
      maxSamples:
        flags.maxSamples === undefined
          ? undefined
          : asUsage(() => parseSamples(flags.maxSamples as string, "--max-samples")),
      maxCallsInFlight: numberFlag(flags.maxInFlight, "--max-in-flight"),
      maxConnections: numberFlag(flags.maxConnections, "--max-connections"),
      handshakeTimeoutMs: numberFlag(flags.handshakeTimeout, "--handshake-timeout"),
    },
    fetch: { timeoutMs: numberFlag(flags.fetchTimeout, "--fetch-timeout"), allow: flags.fetchAllow },
    registry,
    ...(flags.tls !== undefined
      ? { tls: { cert: `${flags.tls}.pem`, key: `${flags.tls}-key.pem`, clientCa: flags.clientCa } }
      : {}),
    token: readToken(flags.tokenFile),
    insecure: flags.insecure === true,
    metrics: flags.metrics,
    logFormat: flags.logFormat as LogFormat | undefined,
    logLevel: flags.logLevel as LogLevel | undefined,
    accessLog: flags.accessLog === true,
  });
  let address: Awaited<ReturnType<typeof node.listen>>;
  // What each --load file exposed and skipped, told once the node serves (a failure is one line).
  const loaded: string[] = [];
  try {
    for (const file of flags.load) await loadObjects(node, file, (line) => loaded.push(line));
    address = await node.listen();
  } catch (err) {
    await node.forceShutdown();
    throw err;
  }
  for (const line of loaded) node.log.info(line, { event: "loaded" });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        listening: address.target,
        host: address.host,
        port: address.port,
        workers: node.workers,
        pid: process.pid,
        ...(node.metricsAddress ? { metrics: node.metricsAddress } : {}),
        ...(node.registration
          ? {
              advertised: node.registration.address,
              registered: node.registration.registered,
              key: node.registration.key,
            }
          : {}),
      })}\n`,
    );
  } else {
    process.stdout.write(
      `ferry node listening on ${address.target} (${node.workers} worker${node.workers === 1 ? "" : "s"}, pid ${process.pid})${node.metricsAddress ? `, metrics at ${flags.tls ? "https" : "http"}://${node.metricsAddress}/metrics` : ""}; Ctrl-C stops it\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      node.log.warn(`${signal} again, cancelling in-flight calls`, { event: "stopping", signal });
      void node.forceShutdown();
      return;
    }
    stopping = true;
    node.log.info(`${signal}, finishing in-flight calls (up to ${graceMs} ms)`, {
      event: "stopping",
      signal,
    });
    node.shutdown().then(
      () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      },
      (err: unknown) => {
        reportFailure(err);
        process.exit();
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
