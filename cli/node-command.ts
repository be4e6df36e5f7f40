import type { Command } from "commander";
import { parseTarget } from "../client/target.js";
import { createNode } from "../server/create-node.js";
import { loadObjects } from "../server/load-objects.js";
import { parseRegistryUrl, parseTags } from "../src/node-record.js";
import { asUsage, parseMs, reportFailure, UsageError } from "./output.js";
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
  $ ferry node --host 0.0.0.0 --registry etcd://10.0.0.2:2379 --tag zone=a`,
    )
    .action(async (flags: NodeFlags) => {
      try {
        await serve(flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

/** `--max-samples`: a count of at least 1, written plainly or as 1e11. */
function parseMaxSamples(text: string): bigint {
  const n = asUsage(() => parseSamples(text, "--max-samples"));
  if (n < 1n) throw new UsageError(`--max-samples must be at least 1, got ${JSON.stringify(text)}`);
  return n;
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

async function serve(flags: NodeFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(flags.port)}`);
  }
  const workers = flags.workers === undefined ? undefined : Number(flags.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 1024)) {
    throw new RangeError(`--workers must be an integer from 1 to 1024, got ${JSON.stringify(flags.workers)}`);
  }
  const graceMs = parseMs(flags.grace, "--grace");
  const registry = flags.registry ?? process.env.FERRY_REGISTRY;
  const ttlSeconds = Number(flags.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 3600) {
    throw new RangeError(
      `--ttl must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(flags.ttl)}`,
    );
  }
  if (registry !== undefined && registry !== "") parseRegistryUrl(registry);
  if (flags.advertise !== undefined) parseTarget(flags.advertise);
  const tags = parseTags(flags.tag, "--tag");
  if (flags.clientCa !== undefined && flags.tls === undefined) {
    throw new UsageError("--client-ca (mutual TLS) needs --tls: the node's own certificate");
  }
  const node = createNode({
    host: flags.host,
    port,
    workers,
    exposeStacks: flags.exposeStacks === true,
    limits: {
      graceMs,
      maxSamples: flags.maxSamples === undefined ? undefined : parseMaxSamples(flags.maxSamples),
      maxCallsInFlight:
        flags.maxInFlight === undefined ? undefined : parseCount(flags.maxInFlight, "--max-in-flight"),
      maxConnections:
        flags.maxConnections === undefined
          ? undefined
          : parseCount(flags.maxConnections, "--max-connections"),
      handshakeTimeoutMs:
        flags.handshakeTimeout === undefined
          ? undefined
          : parseMs(flags.handshakeTimeout, "--handshake-timeout"),
    },
    fetch: {
      timeoutMs:
        flags.fetchTimeout === undefined ? undefined : parseMs(flags.fetchTimeout, "--fetch-timeout"),
      allow: flags.fetchAllow,
    },
    registry:
      registry === undefined || registry === ""
        ? undefined
        : { url: registry, advertise: flags.advertise, tags, ttlSeconds },
    ...(flags.tls !== undefined
      ? { tls: { cert: `${flags.tls}.pem`, key: `${flags.tls}-key.pem`, clientCa: flags.clientCa } }
      : {}),
    token: readToken(flags.tokenFile),
    insecure: flags.insecure === true,
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
  for (const line of loaded) process.stderr.write(`ferry node: ${line}\n`);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        listening: address.target,
        host: address.host,
        port: address.port,
        workers: node.workers,
        pid: process.pid,
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
      `ferry node listening on ${address.target} (${node.workers} worker${node.workers === 1 ? "" : "s"}, pid ${process.pid}); Ctrl-C stops it\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`ferry node: ${signal} again, cancelling in-flight calls\n`);
      void node.forceShutdown();
      return;
    }
    stopping = true;
    process.stderr.write(`ferry node: ${signal}, finishing in-flight calls (up to ${graceMs} ms)\n`);
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
