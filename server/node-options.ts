import { DEFAULT_FETCH_LIMITS } from "./fetcher/fetch-page.js";
import type { FetcherLimits } from "./fetcher.js";
import type { SessionLimits } from "./session-limits.js";
import type { NodeTlsOptions } from "./tls.js";
import type { WorkerPoolOptions } from "./workers/pool-options.js";

/** Options of {@link createNode}. */
export interface NodeOptions extends WorkerPoolOptions {
  /** Address to bind. Default 127.0.0.1: a node is reachable from other machines only when told so. */
  host?: string;
  /** Port to bind; 0 picks a free one (listen() returns it). Default 50051. */
  port?: number;
  /**
   * Serve the compute objects PrimeChecker, PiEstimator and Fetcher (with its
   * address guard), as every `ferry node` does. Default true; false makes a
   * node that hosts only what it is given (and Node.Info).
   */
  computeObjects?: boolean;
  /** Most samples one PiEstimator call may ask for. Default {@link DEFAULT_MAX_SAMPLES}. */
  maxSamples?: bigint;
  /** Fetcher limits; unset ones keep their defaults. */
  fetch?: Partial<FetcherLimits>;
  /**
   * Addresses the Fetcher may reach although they are not public (CIDR
   * ranges, e.g. `["127.0.0.1/32"]`). By default loopback, private,
   * link-local (cloud metadata) and other non-public addresses are refused.
   */
  fetchAllow?: readonly string[];
  /** Largest message the node accepts, in bytes. Default 4 MiB (gRPC's own default). */
  maxMessageBytes?: number;
  /**
   * A client connection with no call (not even an open session) for this
   * long is closed; clients reconnect on their next call. Default
   * {@link DEFAULT_IDLE_CONNECTION_MS}: idle connections cannot pile up.
   */
  idleConnectionMs?: number;
  /**
   * A connection that has not finished its HTTP/2 handshake (TLS included)
   * this long after connecting is closed: silent or half-open sockets cannot
   * pile up. Default {@link DEFAULT_HANDSHAKE_TIMEOUT_MS}.
   */
  handshakeTimeoutMs?: number;
  /** Connections held at once; past it, new ones are closed on arrival. Default {@link DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /** Time in-flight calls get to finish on shutdown() before they are cancelled. Default 10 s. */
  graceMs?: number;
  /** Send unknown errors' messages and stacks to callers. Default false: they can reveal internals. */
  exposeStacks?: boolean;
  /** Where the node logs what it keeps from callers. Default: stderr. */
  log?: (line: string) => void;
  /**
   * Most calls the node serves at once, over every session and unary call;
   * more are refused with RESOURCE_EXHAUSTED (pools back off and try another
   * node). Default {@link DEFAULT_MAX_CALLS_IN_FLIGHT}.
   */
  maxCallsInFlight?: number;
  /** Limits of client sessions; unset ones keep their defaults. */
  session?: Partial<SessionLimits>;
  /** Register in this etcd (`etcd://host:port[,host:port…]`) once listening; see {@link Registration}. */
  registry?: string;
  /**
   * host:port other machines reach the node by, as registered. Default: the
   * bound address, or for a wildcard bind (0.0.0.0, ::) the machine's first
   * non-loopback IPv4 address.
   */
  advertise?: string;
  /** Tags clients select nodes by (`where`), e.g. `{ zone: "a" }`. */
  tags?: Record<string, string>;
  /** Lease TTL of the registration, in seconds. Default 5. */
  ttlSeconds?: number;
  /** TLS, and with `clientCa` mutual TLS; see {@link NodeTlsOptions}. */
  tls?: NodeTlsOptions;
  /** A shared secret every call but health checks must carry (`authorization: Bearer …`). */
  token?: string;
  /**
   * Listen on an address other machines can reach with neither TLS nor a
   * token. Refused by default: anyone on the network could call the node.
   */
  insecure?: boolean;
}

/** The address a node listens on. */
export interface NodeAddress {
  host: string;
  port: number;
  /** `host:port`, ready for connect(). */
  target: string;
}

/** Default Fetcher limits of a node. */
export const DEFAULT_FETCHER_LIMITS: FetcherLimits = {
  ...DEFAULT_FETCH_LIMITS,
  maxTimeoutMs: 60_000,
  maxUrls: 10_000,
  maxConcurrency: 1_000,
};

/** Default limit on one message, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Default limit on the calls a node serves at once. */
export const DEFAULT_MAX_CALLS_IN_FLIGHT = 50_000;

/** Default time a connection without calls stays open. */
export const DEFAULT_IDLE_CONNECTION_MS = 300_000;

/** Default grace period of shutdown(). */
export const DEFAULT_GRACE_MS = 10_000;
