import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import { MethodStats } from "./call-stats.js";

/** Counts calls being served, for Node.Info, graceful shutdown and the node's limit. */
export class InFlight {
  #count = 0;
  /** Most calls the node serves at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly limit: number;

  constructor(limit = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  /** The refusal for one call more than the limit allows, or undefined while there is room. */
  refusal(): ServerError | undefined {
    if (this.#count < this.limit) return undefined;
    return new ServerError(
      Code.RESOURCE_EXHAUSTED,
      `node has ${this.limit} calls running, its limit (maxCallsInFlight); retry later or on another node`,
    );
  }

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    this.#count--;
  }
}

/** Why a call was turned away before it ran. */
export type Refusal = "limit" | "auth" | "build" | "draining";

/** One call as the node answered it, for whoever listens (access logs). */
export interface ObservedCall {
  object: string;
  method: string;
  code: number;
  seconds: number;
  /** How many calls this record stands for: the entries of a batch answered together. */
  count: number;
  peer: string;
}

/** Stands for what a caller named that the node does not expose: such names never make a series. */
export const UNKNOWN = "(unknown)";

/**
 * The one place a node observes its calls. Every call, however it came (a
 * unary call, a session call, each entry of a pool batch, a stream, a typed
 * service's method), ends here with its object, method, outcome code and
 * duration; the node's counters of calls in flight, refusals, sessions and
 * bytes live here too. Metrics, Node.Stats and access logs all read from it.
 *
 * Labels stay bounded: a method's stats are made when the node resolves an
 * exposed method (or serves a typed one), never from a name a caller sent,
 * so calls of unknown names count under {@link UNKNOWN}.
 */
export class NodeObserver {
  readonly inFlight: InFlight;
  readonly #byKey = new WeakMap<object, MethodStats>();
  readonly #byName = new Map<string, MethodStats>();
  readonly #unknown = new MethodStats(UNKNOWN, UNKNOWN);
  readonly #refused = new Map<Refusal, number>();
  readonly #fetches = new Map<string, number>();
  readonly #listeners: ((call: ObservedCall) => void)[] = [];
  /** Session streams open now, and opened since the node started. */
  sessions = 0;
  sessionsOpened = 0;
  /** Bytes of session frames read and written. */
  bytesIn = 0;
  bytesOut = 0;

  constructor(maxCallsInFlight?: number) {
    this.inFlight = new InFlight(maxCallsInFlight);
  }

  /** The stats already found by `key` (see {@link stats}), if any. */
  cached(key: object): MethodStats | undefined {
    return this.#byKey.get(key);
  }

  /**
   * The stats of `object.method`, found by `key` (the exposed method's own
   * descriptor, so the steady state builds no string): one series per name.
   */
  stats(key: object, object: string, method: string): MethodStats {
    let stats = this.#byKey.get(key);
    if (!stats) {
      stats = this.#named(object, method);
      this.#byKey.set(key, stats);
    }
    return stats;
  }

  /**
   * The stats of a typed service's method, by its gRPC path
   * (`/ferry.v1.PrimeChecker/IsPrime`); asked once, when its handler is made.
   */
  pathStats(path: string): MethodStats {
    const slash = path.lastIndexOf("/");
    const service = path.slice(path.lastIndexOf(".", slash) + 1, slash);
    return this.#named(service, path.slice(slash + 1));
  }

  /** Where calls of names the node does not expose count. */
  get unknown(): MethodStats {
    return this.#unknown;
  }

  /** Every method seen so far, unknown names last. */
  methods(): MethodStats[] {
    const all = [...this.#byName.values()];
    if (this.#unknown.calls > 0) all.push(this.#unknown);
    return all;
  }

  /**
   * A call (or `count` batch entries) ended with `code`, `startedAt`
   * (performance.now()) ago.
   */
  ended(stats: MethodStats, code: number, startedAt: number, peer = "", count = 1): void {
    const seconds = (performance.now() - startedAt) / 1000;
    stats.record(code, seconds, count);
    if (this.#listeners.length === 0) return;
    const call = { object: stats.object, method: stats.method, code, seconds, count, peer };
    for (const listener of this.#listeners) listener(call);
  }

  /** A Fetcher fetch ended: "ok", or its failure's kind. */
  fetched(outcome: string): void {
    this.#fetches.set(outcome, (this.#fetches.get(outcome) ?? 0) + 1);
  }

  /** Fetches so far, by outcome. */
  get fetches(): ReadonlyMap<string, number> {
    return this.#fetches;
  }

  /** A call turned away before it ran. */
  refused(why: Refusal): void {
    this.#refused.set(why, (this.#refused.get(why) ?? 0) + 1);
  }

  /** Calls turned away so far, by why. */
  get refusals(): ReadonlyMap<Refusal, number> {
    return this.#refused;
  }

  /** Whether anything listens (an access log): then calls carry their peer's address. */
  get listening(): boolean {
    return this.#listeners.length > 0;
  }

  /** Hears every call as it ends; returns a function that stops it. */
  listen(listener: (call: ObservedCall) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  #named(object: string, method: string): MethodStats {
    const name = `${object}.${method}`;
    let stats = this.#byName.get(name);
    if (!stats) {
      stats = new MethodStats(object, method);
      this.#byName.set(name, stats);
    }
    return stats;
  }
}

/**
 * `definition` with every message's bytes counted in `observer` as they are
 * read and written: the node's bytes in and out, over every service.
 */
export function countingBytes<D extends ServiceDefinition>(definition: D, observer: NodeObserver): D {
  const counted: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    counted[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        observer.bytesIn += bytes.length;
        return method.requestDeserialize(bytes);
      },
      responseSerialize: (value: unknown) => {
        const bytes = method.responseSerialize(value);
        observer.bytesOut += bytes.length;
        return bytes;
      },
    };
  }
  return counted as D;
}
