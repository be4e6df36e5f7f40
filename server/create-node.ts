import { hostname, networkInterfaces } from "node:os";
import { dirname } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import type { Agent } from "undici";
import { LOCAL_BUILD } from "../src/build-identity.js";
import { PROTO_DIR, PROTO_FILES, SERVICES } from "../src/contract.js";
import { framesOr } from "../src/frames.js";
import type { NodeRecord } from "../src/node-record.js";
import { exposeComputeObjects } from "./compute-objects.js";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  guardConnections,
} from "./connection-guard.js";
import type { ExposeOptions } from "./exposure.js";
import { AddressGuard } from "./fetcher/address-guard.js";
import { createFetchAgent, DEFAULT_FETCH_LIMITS } from "./fetcher/fetch-page.js";
import { type FetcherLimits, fetcherServer } from "./fetcher.js";
import { type HandlerContext, InFlight } from "./handlers.js";
import { LoopWatch } from "./loop-watch.js";
import { nodeServer } from "./node-info.js";
import { ObjectHost } from "./object-host.js";
import { objectsServer } from "./objects-service.js";
import { DEFAULT_MAX_SAMPLES, piEstimatorServer } from "./pi-estimator.js";
import { primeCheckerServer } from "./prime-checker.js";
import { Registration } from "./registration.js";
import { DEFAULT_SESSION_LIMITS, type ServerSession, type SessionLimits } from "./session.js";
import { type NodeTlsOptions, serverTlsCredentials } from "./tls.js";
import { TokenCheck } from "./token-check.js";
import { WorkerObjects } from "./workers/worker-objects.js";
import { WorkerPool, type WorkerPoolOptions } from "./workers/worker-pool.js";

/** Options of {@link createNode}. */
export interface NodeOptions extends WorkerPoolOptions {
  /** Address to bind. Default 127.0.0.1: a node is reachable from other machines only when told so. */
  host?: string;
  /** Port to bind; 0 picks a free one (listen() returns it). Default 50051. */
  port?: number;
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

/** A ferry node: PrimeChecker, PiEstimator, Fetcher and Node over gRPC, with health and reflection. */
export class FerryNode {
  readonly #options: NodeOptions;
  readonly #server: Server;
  readonly #pool: WorkerPool;
  readonly #health: HealthImplementation;
  readonly #ctx: HandlerContext;
  readonly #fetchAgent: Agent;
  readonly #host: ObjectHost;
  /** Worker-thread imports of exposed modules (each its failure, if any): listen() waits for them. */
  #loading: Promise<Error | undefined>[] = [];
  readonly #sessions = new Set<ServerSession>();
  #address: NodeAddress | undefined;
  #closing: Promise<void> | undefined;
  #registration: Registration | undefined;
  readonly #tokenCheck: TokenCheck | undefined;
  readonly #since = new Date().toISOString();

  constructor(options: NodeOptions = {}) {
    this.#options = options;
    const startedAt = performance.now();
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const maxCalls = options.maxCallsInFlight ?? DEFAULT_MAX_CALLS_IN_FLIGHT;
    if (!Number.isInteger(maxCalls) || maxCalls < 1) {
      throw new RangeError(`maxCallsInFlight must be a positive integer, got ${options.maxCallsInFlight}`);
    }
    for (const name of ["handshakeTimeoutMs", "maxConnections", "idleConnectionMs"] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
      }
    }
    const exposeStacks = options.exposeStacks ?? false;
    this.#pool = new WorkerPool({ ...options, exposeStacks, log });
    const workers = new WorkerObjects(this.#pool);
    this.#host = new ObjectHost(workers);
    this.#ctx = {
      inFlight: new InFlight(maxCalls),
      exposeStacks,
      log,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      workers,
      loopWatch: new LoopWatch(log),
    };
    const maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#tokenCheck = options.token === undefined ? undefined : new TokenCheck(options.token, log);
    this.#server = new Server({
      "grpc.max_receive_message_length": maxMessage,
      "grpc.max_send_message_length": maxMessage,
      "grpc.max_connection_idle_ms": options.idleConnectionMs ?? DEFAULT_IDLE_CONNECTION_MS,
      ...(this.#tokenCheck ? { interceptors: [this.#tokenCheck.interceptor] } : {}),
    });
    const ctx = this.#ctx;
    const fetchLimits = { ...DEFAULT_FETCHER_LIMITS, ...options.fetch };
    this.#server.addService(SERVICES.PrimeChecker, primeCheckerServer(ctx, this.#pool));
    this.#server.addService(
      SERVICES.PiEstimator,
      piEstimatorServer(ctx, this.#pool, options.maxSamples ?? DEFAULT_MAX_SAMPLES),
    );
    this.#fetchAgent = createFetchAgent(new AddressGuard(options.fetchAllow));
    this.#server.addService(SERVICES.Fetcher, fetcherServer(ctx, fetchLimits, this.#fetchAgent));
    this.#server.addService(SERVICES.Node, nodeServer(ctx, this.#pool, startedAt));
    const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
    exposeComputeObjects(this.#host, this.#pool, maxSamples, fetchLimits, this.#fetchAgent);
    const sessionLimits = { ...DEFAULT_SESSION_LIMITS, ...options.session };
    // Session responses go out as frames packed by size (src/frames.ts), written as they are.
    const objects = {
      ...SERVICES.Objects,
      session: {
        ...SERVICES.Objects.session,
        responseSerialize: framesOr(SERVICES.Objects.session.responseSerialize),
      },
    };
    this.#server.addService(objects, objectsServer(ctx, this.#host, sessionLimits, this.#sessions));

    const status: Record<string, "SERVING"> = { "": "SERVING" };
    for (const name of Object.keys(SERVICES)) status[`ferry.v1.${name}`] = "SERVING";
    this.#health = new HealthImplementation(status);
    this.#health.addToServer(this.#server);
    const described = loadSync([...PROTO_FILES, healthProtoPath], {
      includeDirs: [PROTO_DIR, dirname(healthProtoPath)],
    });
    new ReflectionService(described).addToServer(this.#server);
  }

  /**
   * Exposes an object or a class to callers under `name`; only the listed
   * methods can be called:
   *
   * ```ts
   * node.expose("calc", new Calculator(), { methods: ["add", "countdown"] });
   * node.expose("Counter", Counter, { methods: ["increment"], instance: "session" });
   * ```
   */
  expose(name: string, target: object, options: ExposeOptions): this {
    this.#host.expose(name, target, options);
    const spec = this.#host.moduleSpec(name);
    if (spec) {
      const loading = this.#pool.load(spec);
      if (this.#address) {
        // Already serving: calls wait for the import in each thread, and fail with its cause.
        loading.catch((err: unknown) => this.#ctx.log(`ferry node: ${(err as Error).message}`));
      } else
        this.#loading.push(
          loading.then(
            () => undefined,
            (err: Error) => err,
          ),
        );
    }
    this.#registration?.update();
    return this;
  }

  /** Worker threads running a task now, and tasks waiting for one. */
  get workerLoad(): { busy: number; queued: number } {
    return { busy: this.#pool.busy, queued: this.#pool.queued };
  }

  /** Worker threads: the node's slots for CPU-bound calls. */
  get workers(): number {
    return this.#pool.size;
  }

  /** Calls being served right now. */
  get inFlight(): number {
    return this.#ctx.inFlight.count;
  }

  /** The bound address, once listen() has resolved. */
  get address(): NodeAddress | undefined {
    return this.#address;
  }

  /** Calls refused for a missing or wrong token. */
  get refusedCalls(): number {
    return this.#tokenCheck?.refused ?? 0;
  }

  /** Its entry in the registry, when `registry` was given and listen() has resolved. */
  get registration(): Registration | undefined {
    return this.#registration;
  }

  /**
   * Binds and starts serving; resolves with the bound address (the real port
   * when port was 0). With `registry`, it then registers (waiting for the
   * first attempt only: a node serves whether etcd answers or not).
   */
  async listen(): Promise<NodeAddress> {
    // Every worker thread has imported the exposed modules before the first call.
    const loading = this.#loading;
    this.#loading = [];
    const failed = (await Promise.all(loading)).find((err) => err !== undefined);
    if (failed) throw failed;
    const address = await this.#bind();
    if (this.#options.registry !== undefined) {
      const advertise = this.#options.advertise ?? advertisedAddress(address);
      const record = (): NodeRecord => ({
        address: advertise,
        slots: this.#pool.size,
        objects: this.#host.names(),
        tags: this.#options.tags ?? {},
        version: LOCAL_BUILD.version,
        protocol: LOCAL_BUILD.protocol,
        contract: LOCAL_BUILD.contract,
        hostname: hostname(),
        pid: process.pid,
        since: this.#since,
      });
      this.#registration = new Registration(
        { registry: this.#options.registry, ttlSeconds: this.#options.ttlSeconds, log: this.#ctx.log },
        record,
      );
      this.#registration.start();
      await this.#registration.first;
    }
    return address;
  }

  #bind(): Promise<NodeAddress> {
    const host = this.#options.host ?? "127.0.0.1";
    const port = this.#options.port ?? 50051;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return Promise.reject(new RangeError(`port must be an integer from 0 to 65535, got ${port}`));
    }
    const bindHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    const tls = this.#options.tls;
    if (!tls && this.#options.token === undefined && !this.#options.insecure && !isLoopback(host)) {
      return Promise.reject(
        new Error(
          `refusing to listen on ${bindHost}:${port} with neither TLS nor a token: anyone who reaches it could call this node; give --tls (and --client-ca) or --token-file, or --insecure on a network you trust`,
        ),
      );
    }
    let credentials: ServerCredentials;
    let loaded: Promise<void> = Promise.resolve();
    try {
      if (tls) ({ credentials, loaded } = serverTlsCredentials(tls));
      else credentials = ServerCredentials.createInsecure();
    } catch (err) {
      return Promise.reject(err);
    }
    // Listening once the TLS files are in use, so the first handshake succeeds.
    const bound = new Promise<NodeAddress>((resolve, reject) => {
      this.#server.bindAsync(`${bindHost}:${port}`, credentials, (err, bound) => {
        if (err) {
          reject(new Error(`cannot listen on ${bindHost}:${port}: ${err.message}`, { cause: err }));
          return;
        }
        this.#address = { host, port: bound, target: `${bindHost}:${bound}` };
        const guarded = guardConnections(this.#server, {
          handshakeTimeoutMs: this.#options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
          maxConnections: this.#options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        });
        if (!guarded) {
          this.#ctx.log(
            "ferry node: this grpc-js offers no hold on its connections; handshakeTimeoutMs and maxConnections are not enforced",
          );
        }
        resolve(this.#address);
      });
    });
    return bound.then(async (address) => {
      await loaded;
      return address;
    });
  }

  /**
   * Stops accepting calls, lets in-flight ones finish for up to `graceMs`, then
   * cancels the rest and stops the workers. Health turns NOT_SERVING first, so
   * balancers stop sending work.
   */
  shutdown(graceMs = this.#options.graceMs ?? DEFAULT_GRACE_MS): Promise<void> {
    this.#closing ??= (async () => {
      this.#health.setStatus("", "NOT_SERVING");
      // Out of the registry first, so pools stop sending it work.
      await this.#registration?.stop();
      const drained = new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
      // Sessions are long-lived streams: ask them to end once their calls answer.
      for (const session of this.#sessions) session.drain();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"expired">((resolve) => {
        timer = setTimeout(() => resolve("expired"), graceMs);
      });
      const outcome = await Promise.race([drained, expired]);
      clearTimeout(timer);
      if (outcome === "expired") this.#server.forceShutdown();
      await Promise.all([this.#pool.destroy(), this.#fetchAgent.destroy()]);
    })();
    return this.#closing;
  }

  /** Cancels every call at once and stops the workers. */
  forceShutdown(): Promise<void> {
    this.#server.forceShutdown();
    return this.shutdown(0);
  }
}

/** Whether a bind address is reachable from this machine only. */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The address to register for a node bound to `address`. */
function advertisedAddress(address: NodeAddress): string {
  const wildcard = address.host === "0.0.0.0" || address.host === "::" || address.host === "[::]";
  if (!wildcard) return address.target;
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === "IPv4" && !entry.internal) return `${entry.address}:${address.port}`;
    }
  }
  return `${hostname()}:${address.port}`;
}

/**
 * Creates a node hosting the compute objects. Call listen() to serve:
 *
 * ```ts
 * const node = createNode({ port: 0, workers: 2 });
 * const { target } = await node.listen();
 * ```
 */
export function createNode(options: NodeOptions = {}): FerryNode {
  return new FerryNode(options);
}
