import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";
import { Code } from "../src/code.js";
import type { MethodDefinition } from "../src/contract.js";
import type { EstimateResponse } from "../src/gen/ferry/v1/pi.js";
import type { IsPrimeResponse } from "../src/gen/ferry/v1/prime.js";
import type { Completion, MapOptions, PoolInput } from "./map-options.js";
import { collectResults, completionsOf, orderedResults, unorderedResults } from "./map-results.js";
import { MapRun, type RunHost } from "./map-run.js";

export type { PoolInput } from "./map-options.js";

import { DNS_REFRESH_MS, DnsResolver } from "./dns-resolver.js";
import { EtcdResolver } from "./etcd-resolver.js";
import type { MapStats } from "./map-tally.js";
import { Membership } from "./membership.js";
import type { NodeStats } from "./pool-member.js";
import { type PoolMethod, poolMethod } from "./pool-method.js";
import { type PiOptions, splitEstimatePi, splitIsPrime } from "./pool-split.js";
import { RemoteError } from "./remote-error.js";
import { isMethodRef, type MethodRef } from "./remote-method.js";
import { type Resolver, StaticResolver } from "./resolver.js";
import { clientSecurity, type SecurityOptions } from "./security.js";
import type { RequestInput } from "./service-client.js";
import { parseTarget } from "./target.js";

/** Options of {@link createPool}; `tls` and `token` as for connect(). */
export interface PoolOptions extends SecurityOptions {
  /**
   * The nodes: `host:port`, `ferry://host:port`, or `dns:///name:port` for
   * every address of a name (re-resolved every few seconds).
   */
  nodes?: readonly string[];
  /** The nodes registered in this etcd (`etcd://host:port`), followed live. */
  registry?: string;
  /** With `registry`: only nodes carrying every one of these tags. */
  where?: Record<string, string>;
  /** Deadline of each item when a map gives none. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** How often `dns:///` names are resolved again, in milliseconds. Default {@link DNS_REFRESH_MS}. */
  dnsRefreshMs?: number;
}

/** Options that put each failed item's RemoteError in its place instead of failing the map. */
export type ReturnErrors = MapOptions & { errors: "return" };

// biome-ignore lint/suspicious/noExplicitAny: matches every generated method definition.
type AnyMethod = MethodDefinition<any, any>;

/** How often running maps look for hung nodes and stragglers, in milliseconds. */
const TICK_MS = 200;

/**
 * A set of nodes that map work fans out to, like `multiprocessing.Pool` or
 * `concurrent.futures` across machines. Each node's slots (Node.Info
 * workers) are kept busy and none is overloaded: a node gets more work when
 * it returns some. Tiny items travel in chunks, a failed node's items go to
 * the others, and stragglers at the tail race a copy on an idle node.
 *
 * ```ts
 * await using pool = createPool(["10.0.0.5:50051", "10.0.0.6:50051"]);
 * const results = await pool.map(PrimeChecker.isPrime, numbers.map((n) => ({ n })));
 * for await (const score of pool.imapUnordered("calc.score", items, { signal })) …
 * ```
 */
export class Pool implements AsyncDisposable {
  readonly #membership: Membership;
  readonly #host: RunHost;
  readonly #runs = new Set<MapRun>();
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PoolOptions) {
    const nodes = options?.nodes ?? [];
    if (!Array.isArray(nodes)) throw new TypeError("nodes must be an array of node addresses");
    if (nodes.length === 0 && options?.registry === undefined) {
      throw new TypeError(
        "a pool needs nodes or a registry, e.g. createPool(['127.0.0.1:50051']) or createPool({ registry: 'etcd://127.0.0.1:2379' })",
      );
    }
    if (options.where !== undefined && options.registry === undefined) {
      throw new TypeError("where selects nodes by their registered tags: give a registry too");
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    const dnsRefreshMs = options.dnsRefreshMs ?? DNS_REFRESH_MS;
    if (!(dnsRefreshMs >= 10)) {
      throw new RangeError(`dnsRefreshMs must be at least 10, got ${options.dnsRefreshMs}`);
    }
    const resolvers: Resolver[] = [];
    const fixed: string[] = [];
    const seen = new Set<string>();
    for (const node of nodes) {
      const target = parseTarget(node);
      if (seen.has(target)) throw new TypeError(`node ${target} is listed twice`);
      seen.add(target);
      if (target.startsWith("dns:")) resolvers.push(new DnsResolver(target, dnsRefreshMs));
      else fixed.push(target);
    }
    if (fixed.length > 0) resolvers.unshift(new StaticResolver(fixed));
    if (options.registry !== undefined) {
      resolvers.push(new EtcdResolver(options.registry, { where: options.where }));
    }
    const runs = this.#runs;
    const security = clientSecurity(options);
    this.#membership = new Membership(
      resolvers,
      timeoutMs,
      () => {
        for (const run of runs) run.membersChanged();
      },
      security,
    );
    const membership = this.#membership;
    const pool = this;
    this.#host = {
      get members() {
        return membership.members;
      },
      get resolving() {
        return membership.resolving;
      },
      noNodes: () => membership.noNodes(),
      defaultTimeoutMs: timeoutMs,
      track(run, active) {
        if (active) runs.add(run);
        else runs.delete(run);
        pool.#watch();
      },
    };
  }

  /** Node addresses now, as dialed. */
  get nodes(): string[] {
    return this.#membership.members.map((m) => m.target);
  }

  /** Each running map: items done, failed, queued and in flight, per node, retries and straggler copies. */
  maps(): MapStats[] {
    return [...this.#runs].map((run) => run.stats());
  }

  /** Each node's state, slots and what it has done for this pool. */
  stats(): NodeStats[] {
    return this.#membership.members.map((m) => {
      const tags = this.#membership.tagsOf(m.target);
      return tags ? { ...m.stats(), tags } : m.stats();
    });
  }

  /**
   * Why some source of nodes is not answering now, e.g. the registry is
   * unreachable: the pool works on with the last list it had, and keeps
   * asking.
   */
  problems(): string[] {
    return this.#membership.problems();
  }

  /**
   * Resolves once the node list is known and every node on it has answered
   * Node.Info or failed to (at most about a second more).
   */
  async ready(): Promise<void> {
    await this.#membership.resolved;
    await Promise.all(this.#membership.members.map((m) => m.connected));
  }

  /**
   * Estimates pi over every slot of the pool: the samples are split into
   * ranges of whole blocks with their own random streams and the counts are
   * added, so the answer for a (samples, seed) is the same with 1 node or 10,
   * and the same as one PiEstimator.Estimate.
   */
  estimatePi(
    request: { samples: bigint | number; seed?: bigint | number },
    options?: PiOptions,
  ): Promise<EstimateResponse> {
    return splitEstimatePi(this, request, options);
  }

  /**
   * Trial division of one number split across every slot: the smallest
   * divisor, found in parallel; ranges past it are cancelled on their nodes.
   */
  isPrime(request: { n: bigint | number | string }, options?: MapOptions): Promise<IsPrimeResponse> {
    return splitIsPrime(this, request, options);
  }

  /** Worker slots across the nodes that are up (after they have answered Node.Info). */
  get slots(): number {
    return this.#membership.members.reduce((sum, m) => sum + (m.state === "up" ? m.slots : 0), 0);
  }

  /**
   * Calls the method once per item and resolves with the results in input
   * order (`Pool.map`). The first failed item rejects it, unless
   * `errors: "return"` puts each failure's RemoteError in its place.
   */
  map<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options: ReturnErrors,
  ): Promise<(Res | RemoteError)[]>;
  map<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options?: MapOptions,
  ): Promise<Res[]>;
  map<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options: ReturnErrors,
  ): Promise<(R | RemoteError)[]>;
  map<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options?: MapOptions,
  ): Promise<R[]>;
  async map(
    method: AnyMethod | MethodRef | string,
    items: PoolInput<unknown>,
    options: MapOptions = {},
  ): Promise<unknown[]> {
    return collectResults(this.#run(poolMethod(method), items, options), options);
  }

  /** Like {@link map} for an exposed method of several arguments: each item is the argument list. */
  starmap<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
    method: string | MethodRef<A, R>,
    items: PoolInput<A>,
    options: ReturnErrors,
  ): Promise<(R | RemoteError)[]>;
  starmap<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
    method: string | MethodRef<A, R>,
    items: PoolInput<A>,
    options?: MapOptions,
  ): Promise<R[]>;
  async starmap(
    method: MethodRef | string,
    items: PoolInput<readonly unknown[]>,
    options: MapOptions = {},
  ): Promise<unknown[]> {
    return collectResults(this.#run(poolMethod(method, true), items, options), options);
  }

  /** The results in input order, each as soon as it and those before it are in. */
  imap<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options: ReturnErrors,
  ): AsyncGenerator<Res | RemoteError>;
  imap<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options?: MapOptions,
  ): AsyncGenerator<Res>;
  imap<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options: ReturnErrors,
  ): AsyncGenerator<R | RemoteError>;
  imap<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options?: MapOptions,
  ): AsyncGenerator<R>;
  imap(
    method: AnyMethod | MethodRef | string,
    items: PoolInput<unknown>,
    options: MapOptions = {},
  ): AsyncGenerator<unknown> {
    return orderedResults(() => this.#run(poolMethod(method), items, options), options);
  }

  /** The results as they finish, in whatever order that is. */
  imapUnordered<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options: ReturnErrors,
  ): AsyncGenerator<Res | RemoteError>;
  imapUnordered<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options?: MapOptions,
  ): AsyncGenerator<Res>;
  imapUnordered<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options: ReturnErrors,
  ): AsyncGenerator<R | RemoteError>;
  imapUnordered<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options?: MapOptions,
  ): AsyncGenerator<R>;
  imapUnordered(
    method: AnyMethod | MethodRef | string,
    items: PoolInput<unknown>,
    options: MapOptions = {},
  ): AsyncGenerator<unknown> {
    return unorderedResults(() => this.#run(poolMethod(method), items, options), options);
  }

  /**
   * Every item's completion as it finishes: its input position, the node that
   * answered, and its value or error (never thrown). What progress displays
   * and per-node tables are built from.
   */
  completions<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<RequestInput<Req>>,
    options?: MapOptions,
  ): AsyncGenerator<Completion<Res>>;
  completions<R = unknown, A = unknown>(
    method: string | MethodRef<[A], R>,
    items: PoolInput<A>,
    options?: MapOptions,
  ): AsyncGenerator<Completion<R>>;
  completions(
    method: AnyMethod | MethodRef | string,
    items: PoolInput<unknown>,
    options: MapOptions = {},
  ): AsyncGenerator<Completion> {
    return completionsOf(() => this.#run(poolMethod(method), items, { ...options, errors: "return" }));
  }

  /**
   * One call on the least loaded node, sent again elsewhere if that node fails
   * (for idempotent methods): `submit(PrimeChecker.isPrime, { n: 97n })` or
   * `submit("calc.add", [2, 3])`.
   */
  submit<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: RequestInput<Req>,
    options?: MapOptions,
  ): Promise<Res>;
  submit<R = unknown, A extends readonly unknown[] = readonly unknown[]>(
    method: string | MethodRef<A, R>,
    args: A,
    options?: MapOptions,
  ): Promise<R>;
  async submit(
    method: AnyMethod | MethodRef | string,
    input: unknown,
    options: MapOptions = {},
  ): Promise<unknown> {
    const target =
      typeof method === "string" || isMethodRef(method) ? poolMethod(method, true) : poolMethod(method);
    const run = this.#run(target, [input], { ...options, errors: "return" });
    const completion = (await run.take())?.[0];
    if (!completion) throw new RemoteError(Code.INTERNAL, "submit ended without a result");
    if (completion.ok) return completion.value;
    // The item's own error, without the "item 0:" a map would add.
    throw completion.error.cause instanceof RemoteError ? completion.error.cause : completion.error;
  }

  /** Stops every running map (they fail with CANCELLED) and closes the nodes' channels. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new RemoteError(Code.CANCELLED, "the pool was closed");
    for (const run of [...this.#runs]) run.cancel(closed);
    clearInterval(this.#ticker);
    this.#membership.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #run(method: PoolMethod, items: PoolInput<unknown>, options: MapOptions): MapRun {
    if (this.#closed) throw new RemoteError(Code.CANCELLED, "the pool is closed");
    return new MapRun(this.#host, method, items, options);
  }

  /** Ticks running maps a few times a second; the timer keeps the process alive only while one runs. */
  #watch(): void {
    if (this.#runs.size > 0 && !this.#ticker && !this.#closed) {
      this.#ticker = setInterval(() => {
        for (const run of this.#runs) run.tick();
      }, TICK_MS);
    } else if (this.#runs.size === 0 && this.#ticker) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }
}

/**
 * A pool over a list of nodes (`["10.0.0.5:50051", "dns:///ferry.svc:50051"]`),
 * or options: `nodes`, `registry` (etcd, followed live) with `where` tags, and
 * a default item deadline. Nodes are dialed at once; each joins when it
 * answers Node.Info.
 */
export function createPool(nodes: readonly string[] | PoolOptions): Pool {
  return new Pool(Array.isArray(nodes) ? { nodes } : (nodes as PoolOptions));
}
