import { listenAddress } from "../src/bind-address.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../src/log.js";
import { parseRegistryUrl } from "../src/node-record.js";
import { integerOption, OptionError, shown } from "../src/option-error.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from "./connection-guard.js";
import { DEFAULT_FETCH_LIMITS } from "./fetcher/fetch-page.js";
import type { FetcherLimits } from "./fetcher.js";
import { DEFAULT_MAX_SAMPLES } from "./pi-estimator.js";
import { DEFAULT_TTL_SECONDS, type RegistryTarget } from "./registration.js";
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./session-limits.js";
import type { NodeTlsOptions } from "./tls.js";
import {
  DEFAULT_MAX_QUEUE,
  DEFAULT_STOP_GRACE_MS,
  DEFAULT_WORKER_HEAP_MB,
  type PoolLimits,
} from "./workers/pool-options.js";

/**
 * Options of {@link createNode}. Each is checked when the node is created;
 * a bad one is an OptionError naming its path (`port`, `limits.graceMs`).
 */
export interface NodeOptions {
  /** Address to bind. Default 127.0.0.1: a node is reachable from other machines only when told so. */
  host?: string;
  /** Port to bind, 0 to 65535; 0 picks a free one (listen() returns it). Default 50051. */
  port?: number;
  /**
   * Serve the compute objects PrimeChecker, PiEstimator and Fetcher (with its
   * address guard), as every `ferry node` does. Default true; false makes a
   * node that hosts only what it is given (and Node.Info).
   */
  computeObjects?: boolean;
  /** Threads for CPU-bound calls, built-in and user code alike: the node's slots, 1 to 1024. Default: the machine's cores. */
  workers?: number;
  /** TLS, and with `clientCa` mutual TLS; see {@link NodeTlsOptions}. */
  tls?: NodeTlsOptions;
  /** A shared secret every call but health checks must carry (`authorization: Bearer …`). */
  token?: string;
  /**
   * Listen on an address other machines can reach with neither TLS nor a
   * token. Refused by default: anyone on the network could call the node.
   */
  insecure?: boolean;
  /**
   * Serve Prometheus metrics at `http://<metrics>/metrics` once listening:
   * `host:port`, or a port alone for loopback (`"9464"`). A non-loopback
   * address needs TLS, a token or `insecure`, as the node's own does.
   */
  metrics?: string;
  /** Send unknown errors' messages and stacks to callers. Default false: they can reveal internals. */
  exposeStacks?: boolean;
  /** Where the node's log lines go, each without its newline. Default: stderr. */
  log?: (line: string) => void;
  /** `pretty` (`ferry node: …` lines, the default) or `json` (one object a line, for log shippers). */
  logFormat?: LogFormat;
  /** The least severe level logged. Default `info`. */
  logLevel?: LogLevel;
  /** Log every call as it ends (object, method, code, duration, peer) at level info. Default off. */
  accessLog?: boolean;
  /** What the node holds and serves at most; unset ones keep {@link DEFAULT_NODE_LIMITS}. */
  limits?: Partial<NodeLimits>;
  /** Limits of client sessions; unset ones keep {@link DEFAULT_SESSION_LIMITS}. */
  session?: Partial<SessionLimits>;
  /** The Fetcher's limits (unset ones keep {@link DEFAULT_FETCHER_LIMITS}) and the addresses it may reach. */
  fetch?: NodeFetchOptions;
  /** Register in etcd once listening; see {@link NodeRegistryOptions}. */
  registry?: NodeRegistryOptions;
}

/**
 * What a node holds and serves at most, each a positive integer: the
 * limits that keep callers, slow or hostile, from using it up.
 */
export interface NodeLimits extends PoolLimits {
  /** Largest message the node accepts, in bytes. Default 4 MiB (gRPC's own default). */
  maxMessageBytes: number;
  /**
   * Most calls the node serves at once, over every session and unary call;
   * more are refused with RESOURCE_EXHAUSTED (pools back off and try another
   * node). Default 50,000.
   */
  maxCallsInFlight: number;
  /** Connections held at once; past it, new ones are closed on arrival. Default 10,000. */
  maxConnections: number;
  /**
   * A client connection with no call (not even an open session) for this
   * long is closed; clients reconnect on their next call. Default 5 minutes:
   * idle connections cannot pile up.
   */
  idleConnectionMs: number;
  /**
   * A connection that has not finished its HTTP/2 handshake (TLS included)
   * this long after connecting is closed: silent or half-open sockets cannot
   * pile up. Default 10 s.
   */
  handshakeTimeoutMs: number;
  /** Time in-flight calls get to finish on shutdown() before they are cancelled. Default 10 s. */
  graceMs: number;
  /** Most samples one PiEstimator call may ask for, at least 1. Default 10^11. */
  maxSamples: bigint;
}

/** The Fetcher's options: its limits, and the non-public addresses it may reach. */
export interface NodeFetchOptions extends Partial<FetcherLimits> {
  /**
   * Addresses the Fetcher may reach although they are not public (CIDR
   * ranges, e.g. `["127.0.0.1/32"]`). By default loopback, private,
   * link-local (cloud metadata) and other non-public addresses are refused.
   */
  allow?: readonly string[];
}

/** Where a node registers once listening, and what it registers; see {@link Registration}. */
export interface NodeRegistryOptions {
  /** The etcd to register in: `etcd://host:port[,host:port…]`. */
  url: string;
  /**
   * host:port other machines reach the node by, as registered. Default: the
   * bound address, or for a wildcard bind (0.0.0.0, ::) the machine's first
   * non-loopback IPv4 address.
   */
  advertise?: string;
  /** Tags clients select nodes by (`where`), e.g. `{ zone: "a" }`. */
  tags?: Record<string, string>;
  /** Lease TTL of the registration, 1 to 3600 seconds: how long a crashed node stays listed. Default 5. */
  ttlSeconds?: number;
}

/** The address a node listens on. */
export interface NodeAddress {
  host: string;
  port: number;
  /** `host:port`, ready for connect(). */
  target: string;
}

/** Default limits of a node. */
export const DEFAULT_NODE_LIMITS: Readonly<NodeLimits> = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxCallsInFlight: 50_000,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleConnectionMs: 300_000,
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  graceMs: 10_000,
  maxSamples: DEFAULT_MAX_SAMPLES,
  maxQueue: DEFAULT_MAX_QUEUE,
  workerHeapMb: DEFAULT_WORKER_HEAP_MB,
  stopGraceMs: DEFAULT_STOP_GRACE_MS,
};

/** Default Fetcher limits of a node. */
export const DEFAULT_FETCHER_LIMITS: Readonly<FetcherLimits> = {
  ...DEFAULT_FETCH_LIMITS,
  maxTimeoutMs: 60_000,
  maxUrls: 10_000,
  maxConcurrency: 1_000,
};

/** A node's options checked, unset ones at their defaults (the pool checks `workers` and its own limits). */
export interface NodeSettings {
  host: string;
  port: number;
  limits: NodeLimits;
  session: SessionLimits;
  fetch: FetcherLimits;
  fetchAllow: readonly string[];
  /** Where /metrics is served; absent when it is not. */
  metrics: { host: string; port: number } | undefined;
  /** Absent when the node does not register. */
  registry: (RegistryTarget & { advertise: string | undefined; tags: Record<string, string> }) | undefined;
}

/** The limits a node's own code enforces; `maxQueue`, `workerHeapMb` and `stopGraceMs` are the pool's to check. */
const NODE_LIMITS = [
  "maxMessageBytes",
  "maxCallsInFlight",
  "maxConnections",
  "idleConnectionMs",
  "handshakeTimeoutMs",
  "graceMs",
] as const;

/** Checks every option but the pool's; throws an OptionError at the first bad one. */
export function nodeSettings(options: NodeOptions): NodeSettings {
  oneOf("logFormat", options.logFormat, LOG_FORMATS);
  oneOf("logLevel", options.logLevel, LOG_LEVELS);
  const limits = withDefaults(DEFAULT_NODE_LIMITS, options.limits);
  for (const name of NODE_LIMITS) integerOption(`limits.${name}`, limits[name], 1);
  if (typeof limits.maxSamples !== "bigint")
    throw new OptionError("limits.maxSamples", `must be a bigint, got ${shown(limits.maxSamples)}`);
  if (limits.maxSamples < 1n)
    throw new OptionError("limits.maxSamples", `must be at least 1, got ${limits.maxSamples}`);
  const session = withDefaults(DEFAULT_SESSION_LIMITS, options.session);
  for (const name of Object.keys(DEFAULT_SESSION_LIMITS) as (keyof SessionLimits)[])
    integerOption(`session.${name}`, session[name], 1);
  const { allow = [], ...fetchGiven } = options.fetch ?? {};
  const fetch = withDefaults(DEFAULT_FETCHER_LIMITS, fetchGiven);
  for (const name of Object.keys(DEFAULT_FETCHER_LIMITS) as (keyof FetcherLimits)[])
    integerOption(`fetch.${name}`, fetch[name], name === "maxRedirects" ? 0 : 1);
  return {
    host: options.host ?? "127.0.0.1",
    port: integerOption("port", options.port ?? 50051, 0, 65535),
    limits,
    session,
    fetch,
    fetchAllow: allow,
    metrics: options.metrics === undefined ? undefined : listenAddress("metrics", options.metrics),
    registry: options.registry && registrySettings(options.registry),
  };
}

/** Refuses a value of option `name` that is set but not one of `allowed`. */
function oneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string))
    throw new OptionError(
      name,
      `must be ${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}, got ${shown(value)}`,
    );
}

/**
 * A registration's lease TTL, checked: `registry.ttlSeconds`. A command
 * line that is not registering may ask it too, so a bad TTL is never
 * silently ignored.
 */
export function registryTtlSeconds(ttlSeconds: number | undefined): number {
  const ttl = ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (typeof ttl === "number" && Number.isInteger(ttl) && ttl >= 1 && ttl <= 3600) return ttl;
  throw new OptionError(
    "registry.ttlSeconds",
    `must be a whole number of seconds from 1 to 3600, got ${shown(ttl)}`,
  );
}

function registrySettings(registry: NodeRegistryOptions): NonNullable<NodeSettings["registry"]> {
  // A bad URL is told in the words createPool and `ferry ns` use for it (src/node-record.ts).
  const { hosts, url } = parseRegistryUrl(registry.url);
  return {
    url,
    hosts,
    ttlSeconds: registryTtlSeconds(registry.ttlSeconds),
    advertise: registry.advertise,
    tags: registry.tags ?? {},
  };
}

/** `given` over `defaults`, a field given as undefined keeping its default. */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
