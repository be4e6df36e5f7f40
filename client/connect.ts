import type { Client, Metadata } from "@grpc/grpc-js";
import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";
import { Code } from "../src/code.js";
import { SERVICES, type ServiceDefinition } from "../src/contract.js";
import { acquireChannel } from "./channel.js";
import { ClientRefs } from "./client-refs.js";
import { createProxy, type Remote, refOfProxy } from "./proxy.js";
import { RemoteCall } from "./remote-call.js";
import { RemoteError } from "./remote-error.js";
import { clientSecurity, type SecurityOptions } from "./security.js";
import { createServiceClient, type ServiceClient } from "./service-client.js";
import { ClientSession, DEFAULT_MAX_MESSAGE_BYTES } from "./session.js";
import { parseObjectUri } from "./target.js";

/** Options of {@link connect}. */
export interface ConnectOptions extends SecurityOptions {
  /** Deadline of calls that give no `timeoutMs`. Default {@link DEFAULT_TIMEOUT_MS}. */
  defaultTimeoutMs?: number;
  /**
   * Largest message accepted from the node, and the largest call a session
   * sends (a bigger one fails alone), in bytes. Default 4 MiB, a node's own.
   */
  maxMessageBytes?: number;
}

/**
 * A connection to one node. Every service it hands out shares one channel,
 * and connections to the same target share it too.
 */
export class NodeConnection implements AsyncDisposable {
  /** The node's address as gRPC dials it. */
  readonly target: string;
  readonly #client: Client;
  readonly #release: () => void;
  readonly #defaultTimeoutMs: number;
  readonly #services = new Map<ServiceDefinition, unknown>();
  readonly #object: string | undefined;
  readonly #metadata: () => Metadata;
  #session: ClientSession | undefined;
  #closed = false;
  readonly #maxMessageBytes: number;

  constructor(target: string, options: ConnectOptions = {}) {
    const { target: address, object } = parseObjectUri(target);
    this.target = address;
    this.#object = object;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.#defaultTimeoutMs > 0)) {
      throw new RangeError(`defaultTimeoutMs must be a positive number, got ${options.defaultTimeoutMs}`);
    }
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const channelOptions =
      options.maxMessageBytes === undefined
        ? {}
        : { "grpc.max_receive_message_length": options.maxMessageBytes };
    const { client, release, metadata } = acquireChannel(
      this.target,
      channelOptions,
      clientSecurity(options),
    );
    this.#client = client;
    this.#release = release;
    this.#metadata = metadata;
  }

  /**
   * The typed client of a service, from its generated definition:
   *
   * ```ts
   * const primes = node.service(PrimeChecker);
   * const { prime } = await primes.isPrime({ n: 9999999999999917n }, { timeoutMs: 5000 });
   * ```
   */
  service<S extends ServiceDefinition>(definition: S): ServiceClient<S> {
    if (this.#closed) throw new RemoteError(Code.CANCELLED, `connection to ${this.target} is closed`);
    let stub = this.#services.get(definition) as ServiceClient<S> | undefined;
    if (!stub) {
      stub = createServiceClient(definition, {
        client: this.#client,
        defaultTimeoutMs: this.#defaultTimeoutMs,
        metadata: this.#metadata,
      });
      this.#services.set(definition, stub);
    }
    return stub;
  }

  /**
   * A proxy of an exposed object; its calls travel over this connection's one
   * session stream. The name defaults to the object of a
   * `ferry://host:port/object` target.
   *
   * ```ts
   * await using calc = connect("ferry://127.0.0.1:50051/calc").proxy<Calculator>();
   * await calc.add(2, 3);
   * for await (const n of calc.countdown(3)) console.log(n);
   * ```
   */
  proxy<T>(
    name: string | undefined = this.#object,
    options: { timeoutMs?: number; signal?: AbortSignal; streamWindow?: number } = {},
  ): Remote<T> {
    if (this.#closed) throw new RemoteError(Code.CANCELLED, `connection to ${this.target} is closed`);
    if (!name) throw new TypeError("proxy() needs an object name, or a ferry://host:port/object target");
    this.#session ??= this.#openSession();
    return createProxy<T>(
      this.#session,
      { object: name },
      {
        timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
        signal: options.signal,
        streamWindow: options.streamWindow,
      },
    );
  }

  /**
   * Calls `object.method(...args)` by name, over the same session as
   * proxies, with nothing answered here: whatever the names, the node
   * decides (and refuses, listing what it exposes). For tools and names
   * known only at run time; typed code uses {@link proxy}.
   *
   * ```ts
   * const sum = await node.call("calc", "add", [2, 3]);
   * ```
   */
  call<T = unknown>(
    object: string,
    method: string,
    args: unknown[] = [],
    options: { timeoutMs?: number; signal?: AbortSignal; streamWindow?: number } = {},
  ): RemoteCall<T> {
    if (this.#closed) throw new RemoteError(Code.CANCELLED, `connection to ${this.target} is closed`);
    this.#session ??= this.#openSession();
    const session = this.#session;
    const callOptions = {
      timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
      signal: options.signal,
      streamWindow: options.streamWindow,
    };
    return new RemoteCall<T>((sink) => session.call({ object }, method, args, callOptions, sink));
  }

  #openSession(): ClientSession {
    return openSession(
      this.#client,
      this.target,
      this.#defaultTimeoutMs,
      this.#metadata,
      this.#maxMessageBytes,
    );
  }

  /** PrimeChecker of this node. */
  get primes(): ServiceClient<typeof SERVICES.PrimeChecker> {
    return this.service(SERVICES.PrimeChecker);
  }

  /** PiEstimator of this node. */
  get pi(): ServiceClient<typeof SERVICES.PiEstimator> {
    return this.service(SERVICES.PiEstimator);
  }

  /** Fetcher of this node. */
  get fetcher(): ServiceClient<typeof SERVICES.Fetcher> {
    return this.service(SERVICES.Fetcher);
  }

  /** The Node service: Info. */
  get node(): ServiceClient<typeof SERVICES.Node> {
    return this.service(SERVICES.Node);
  }

  /** Releases the channel (closed when no other connection uses it). Calls in flight fail with CANCELLED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session?.close();
    this.#release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/**
 * A session to `target` over `client`'s channel; objects it receives by
 * reference become proxies whose calls default to `timeoutMs`.
 */
export function openSession(
  client: Client,
  target: string,
  timeoutMs: number,
  metadata?: () => Metadata,
  maxMessageBytes?: number,
): ClientSession {
  return new ClientSession(
    client,
    target,
    (session) =>
      new ClientRefs(refOfProxy, (ref) => {
        session.holds(ref.id);
        return createProxy(session, { refId: ref.id }, { timeoutMs }, ref.methods);
      }),
    metadata,
    maxMessageBytes,
  );
}

/**
 * Connects to a node: `host:port` or `ferry://host:port`. Nothing is dialed
 * until the first call; each call carries its own deadline.
 */
export function connect(target: string, options?: ConnectOptions): NodeConnection {
  return new NodeConnection(target, options);
}
