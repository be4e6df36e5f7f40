import { hostname, networkInterfaces } from "node:os";
import { dirname } from "node:path";
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import type { Agent } from "undici";
import { isLoopback, whyNotBound } from "../src/bind-address.js";
import { LOCAL_BUILD } from "../src/build-identity.js";
import { PROTO_DIR, PROTO_FILES, SERVICES } from "../src/contract.js";
import { createLog, type Log } from "../src/log.js";
import type { NodeRecord } from "../src/node-record.js";
import { writeFrame } from "../src/session-wire.js";
import { logCall } from "./access-log.js";
import { exposeComputeObjects, exposeNodeObject } from "./compute-objects.js";
import { guardConnections, type OpenConnections } from "./connection-guard.js";
import type { ExposeOptions } from "./exposure.js";
import { AddressGuard } from "./fetcher/address-guard.js";
import { createFetchAgent } from "./fetcher/fetch-page.js";
import { fetcherServer } from "./fetcher.js";
import type { HandlerContext } from "./handlers.js";
import { LoopWatch } from "./loop-watch.js";
import { nodeMetrics } from "./metrics.js";
import { type MetricsEndpoint, serveMetrics } from "./metrics-server.js";
import { nodeInfo, nodeServer } from "./node-info.js";
import { type NodeAddress, type NodeOptions, type NodeSettings, nodeSettings } from "./node-options.js";
import type { NodeReadings } from "./node-stats.js";
import { ObjectHost } from "./object-host.js";
import { objectsServer } from "./objects-service.js";
import { countingBytes, NodeObserver } from "./observer.js";
import { piEstimatorServer } from "./pi-estimator.js";
import { primeCheckerServer } from "./prime-checker.js";
import { Registration } from "./registration.js";
import type { ServerSession } from "./session.js";
import { serverTlsCredentials } from "./tls.js";
import { TokenCheck } from "./token-check.js";
import { WorkerObjects } from "./workers/worker-objects.js";
import { WorkerPool } from "./workers/worker-pool.js";

/** Every typed service of the contract. */
const SERVICE_NAMES = Object.keys(SERVICES);

/** What a node serves without its compute objects: Node.Info and users' objects. */
const NODE_SERVICES = ["Node", "Objects"];

/** The protos of the compute objects, left out of reflection when the node does not serve them. */
const COMPUTE_PROTOS = ["ferry/v1/prime.proto", "ferry/v1/pi.proto", "ferry/v1/fetch.proto"];

/** A ferry node: PrimeChecker, PiEstimator, Fetcher and Node over gRPC, with health and reflection. */
export class FerryNode {
  readonly #options: NodeOptions;
  readonly #settings: NodeSettings;
  readonly #server: Server;
  readonly #pool: WorkerPool;
  readonly #health: HealthImplementation;
  readonly #ctx: HandlerContext;
  readonly #fetchAgent: Agent | undefined;
  #connections: OpenConnections | undefined;
  #metrics: MetricsEndpoint | undefined;
  readonly #log: Log;
  /** What metrics and Node.Stats read of this node. */
  readonly #readings: NodeReadings;
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
    // Everything that can refuse an option comes before the pool, whose threads start at once.
    const settings = nodeSettings(options);
    this.#settings = settings;
    const log = createLog({
      name: "ferry node",
      format: options.logFormat,
      level: options.logLevel,
      write: options.log,
    });
    this.#log = log;
    const { limits } = settings;
    const observer = new NodeObserver(limits.maxCallsInFlight);
    if (options.accessLog) observer.listen((call) => logCall(log, call));
    this.#tokenCheck =
      options.token === undefined
        ? undefined
        : new TokenCheck(options.token, log, () => observer.refused("auth"));
    // The compute objects every `ferry node` ships; a library node may host only its own.
    const compute = options.computeObjects !== false;
    const addressGuard = compute ? new AddressGuard(settings.fetchAllow) : undefined;
    const exposeStacks = options.exposeStacks ?? false;
    this.#pool = new WorkerPool({ workers: options.workers, limits, exposeStacks, log });
    const workers = new WorkerObjects(this.#pool);
    this.#host = new ObjectHost(workers);
    this.#ctx = {
      observer,
      exposeStacks,
      log,
      maxMessageBytes: limits.maxMessageBytes,
      workers,
      loopWatch: new LoopWatch(log),
    };
    this.#server = new Server({
      "grpc.max_receive_message_length": limits.maxMessageBytes,
      "grpc.max_send_message_length": limits.maxMessageBytes,
      "grpc.max_connection_idle_ms": limits.idleConnectionMs,
      ...(this.#tokenCheck ? { interceptors: [this.#tokenCheck.interceptor] } : {}),
    });
    const ctx = this.#ctx;
    const services = compute ? SERVICE_NAMES : NODE_SERVICES;
    if (addressGuard) {
      const { fetch: fetchLimits } = settings;
      this.#addService(SERVICES.PrimeChecker, primeCheckerServer(ctx, this.#pool));
      this.#addService(SERVICES.PiEstimator, piEstimatorServer(ctx, this.#pool, limits.maxSamples));
      this.#fetchAgent = createFetchAgent(addressGuard);
      const via = { agent: this.#fetchAgent, fetched: (outcome: string) => observer.fetched(outcome) };
      this.#addService(SERVICES.Fetcher, fetcherServer(ctx, fetchLimits, via));
      exposeComputeObjects(this.#host, this.#pool, limits.maxSamples, fetchLimits, via);
    }
    this.#readings = {
      observer,
      workers: () => ({ total: this.#pool.size, busy: this.#pool.busy, queued: this.#pool.queued }),
      sessionObjects: () => {
        let held = 0;
        for (const session of this.#sessions) held += session.held;
        return held;
      },
      connections: () => this.#connections?.open,
    };
    this.#addService(SERVICES.Node, nodeServer(ctx, this.#pool, startedAt, services, this.#readings));
    exposeNodeObject(this.#host, () => nodeInfo(ctx, this.#pool, startedAt, services));
    const sessionLimits = settings.session;
    // Session responses go out as frames packed by size (src/session-wire.ts), written as they are.
    const objects = {
      ...SERVICES.Objects,
      session: { ...SERVICES.Objects.session, responseSerialize: writeFrame },
    };
    this.#addService(objects, objectsServer(ctx, this.#host, sessionLimits, this.#sessions));

    const status: Record<string, "SERVING"> = { "": "SERVING" };
    for (const name of services) status[`ferry.v1.${name}`] = "SERVING";
    this.#health = new HealthImplementation(status);
    this.#health.addToServer(this.#server);
    const protos = compute ? PROTO_FILES : PROTO_FILES.filter((f) => !COMPUTE_PROTOS.includes(f));
    const described = loadSync([...protos, healthProtoPath], {
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
        loading.catch((err: unknown) => this.#ctx.log.error((err as Error).message));
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

  /** Serves a service with its bytes counted by the node's observer. */
  #addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.#server.addService(countingBytes(definition, this.#ctx.observer), implementation);
  }

  /** The node's logger: what it writes, in its format and from its level. */
  get log(): Log {
    return this.#log;
  }

  /** Where the node observes every call (see NodeObserver). */
  get observer(): NodeObserver {
    return this.#ctx.observer;
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
    return this.#ctx.observer.inFlight.count;
  }

  /** The bound address, once listen() has resolved. */
  get address(): NodeAddress | undefined {
    return this.#address;
  }

  /** Calls refused for a missing or wrong token. */
  get refusedCalls(): number {
    return this.#ctx.observer.refusals.get("auth") ?? 0;
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
    try {
      await this.#serveMetrics();
    } catch (err) {
      this.#server.forceShutdown();
      throw err;
    }
    const registry = this.#settings.registry;
    if (registry !== undefined) {
      const advertise = registry.advertise ?? advertisedAddress(address);
      const record = (): NodeRecord => ({
        address: advertise,
        slots: this.#pool.size,
        objects: this.#host.names(),
        tags: registry.tags,
        version: LOCAL_BUILD.version,
        protocol: LOCAL_BUILD.protocol,
        contract: LOCAL_BUILD.contract,
        hostname: hostname(),
        pid: process.pid,
        since: this.#since,
      });
      this.#registration = new Registration(registry, this.#ctx.log, record);
      this.#registration.start();
      await this.#registration.first;
    }
    return address;
  }

  /** Serves /metrics when asked (see NodeOptions.metrics). */
  async #serveMetrics(): Promise<void> {
    const where = this.#settings.metrics;
    if (!where) return;
    const registry = nodeMetrics(this.#readings);
    const { tls, token, insecure } = this.#options;
    this.#metrics = await serveMetrics(registry, { ...where, tls, token, insecure });
  }

  /** `host:port` of /metrics, once listen() has resolved, when the node serves it. */
  get metricsAddress(): string | undefined {
    return this.#metrics?.address;
  }

  #bind(): Promise<NodeAddress> {
    const { host, port } = this.#settings;
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
          reject(
            new Error(`cannot listen on ${bindHost}:${port}: ${whyNotBound(err.message)}`, { cause: err }),
          );
          return;
        }
        this.#address = { host, port: bound, target: `${bindHost}:${bound}` };
        const { handshakeTimeoutMs, maxConnections } = this.#settings.limits;
        this.#connections = guardConnections(this.#server, { handshakeTimeoutMs, maxConnections });
        if (!this.#connections) {
          this.#ctx.log.warn(
            "this grpc-js offers no hold on its connections; limits.handshakeTimeoutMs and limits.maxConnections are not enforced",
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
   * Stops accepting calls, lets in-flight ones finish for up to `limits.graceMs`, then
   * cancels the rest and stops the workers. Health turns NOT_SERVING first, so
   * balancers stop sending work.
   */
  shutdown(graceMs = this.#settings.limits.graceMs): Promise<void> {
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
      await Promise.all([this.#pool.destroy(), this.#fetchAgent?.destroy(), this.#metrics?.close()]);
    })();
    return this.#closing;
  }

  /** Cancels every call at once and stops the workers. */
  forceShutdown(): Promise<void> {
    this.#server.forceShutdown();
    return this.shutdown(0);
  }
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
