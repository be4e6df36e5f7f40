import { noop } from "cockatiel";
import { Etcd3, EtcdLeaseInvalidError, type Lease } from "etcd3";
import type { Log } from "../src/log.js";
import { type NodeRecord, REGISTRY_PREFIX } from "../src/node-record.js";

/** The etcd a node registers in and its lease TTL, checked by the node (node-options.ts). */
export interface RegistryTarget {
  /** `etcd://host:port[,host:port…]`, as given. */
  url: string;
  /** Its endpoints, `http://host:port` each. */
  hosts: string[];
  /** Lease TTL in seconds: how long a crashed node stays listed. */
  ttlSeconds: number;
}

/** Default lease TTL, in seconds. */
export const DEFAULT_TTL_SECONDS = 5;

/** Longest an etcd call of the registration may take. */
const CALL_TIMEOUT_MS = 2_000;

/** First and longest wait before registering again after etcd was lost. */
const RETRY_MS = [250, 5_000] as const;

/**
 * A node's entry in etcd: its record under `ferry/v1/nodes/<address>`, held
 * by a lease the client keeps alive. A crash lets the lease expire (the
 * entry goes after the TTL); stop() revokes it (the entry goes at once).
 * Losing etcd never stops the node serving: it registers again, with a new
 * lease, as soon as etcd answers.
 */
export class Registration {
  readonly #client: Etcd3;
  readonly #key: string;
  readonly #ttl: number;
  readonly #record: () => NodeRecord;
  readonly #log: Log;
  readonly #url: string;
  #lease: Lease | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryMs: number = RETRY_MS[0];
  #registered = false;
  #everRegistered = false;
  #stopped = false;
  /** Settles when the first attempt to register has succeeded or failed. */
  readonly first: Promise<void>;
  #firstDone: () => void = () => {};

  /** Made by a node once it listens, from its checked `registry` options; start() registers. */
  constructor(target: RegistryTarget, log: Log, record: () => NodeRecord) {
    const { hosts, url, ttlSeconds } = target;
    this.#ttl = ttlSeconds;
    this.#url = url;
    this.#record = record;
    this.#log = log;
    this.#key = REGISTRY_PREFIX + record().address;
    // Retries are ours (with backoff, forever); etcd3's own would stall a
    // re-registration behind its circuit breaker after etcd comes back.
    this.#client = new Etcd3({
      hosts,
      dialTimeout: CALL_TIMEOUT_MS,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: { host: () => noop, global: noop },
    });
    this.first = new Promise((resolve) => {
      this.#firstDone = resolve;
    });
  }

  /** The address registered for clients. */
  get address(): string {
    return this.#key.slice(REGISTRY_PREFIX.length);
  }

  /** The key the node's record is under. */
  get key(): string {
    return this.#key;
  }

  /** Whether the record is in etcd now (as far as the node knows). */
  get registered(): boolean {
    return this.#registered;
  }

  start(): void {
    void this.#register();
  }

  /** Writes the record again (the node's objects changed). */
  update(): void {
    const lease = this.#lease;
    if (!lease || !this.#registered || this.#stopped) return;
    lease
      .put(this.#key)
      .value(JSON.stringify(this.#record()))
      .catch((err: unknown) => this.#lost(err));
  }

  /** Deletes the entry (revoking its lease) and closes the etcd client. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease && this.#registered) {
      try {
        await lease.revoke({ deadline: Date.now() + CALL_TIMEOUT_MS });
      } catch {
        // etcd is away: the entry goes when its lease expires.
        lease.release();
      }
    } else lease?.release();
    this.#registered = false;
    this.#client.close();
  }

  async #register(): Promise<void> {
    if (this.#stopped) return;
    const lease = this.#client.lease(this.#ttl);
    this.#lease = lease;
    lease.on("lost", (err) => {
      if (this.#lease === lease) this.#lost(err);
    });
    try {
      await lease.put(this.#key).value(JSON.stringify(this.#record()));
    } catch (err) {
      if (this.#lease === lease) this.#lost(err);
      this.#firstDone();
      return;
    }
    if (this.#stopped || this.#lease !== lease) return;
    const again = this.#retryMs !== RETRY_MS[0] || this.#everRegistered;
    this.#registered = true;
    this.#everRegistered = true;
    this.#retryMs = RETRY_MS[0];
    this.#log.info(
      `${again ? "registered again" : "registered"} in ${this.#url} as ${this.#key} (lease TTL ${this.#ttl} s)`,
      { event: "registered", registry: this.#url, key: this.#key },
    );
    this.#firstDone();
  }

  #lost(err: unknown): void {
    if (this.#stopped) return;
    const lease = this.#lease;
    this.#lease = undefined;
    lease?.release();
    if (this.#registered || this.#retryMs === RETRY_MS[0]) {
      const why =
        err instanceof EtcdLeaseInvalidError
          ? "its lease expired while etcd was unreachable"
          : err instanceof Error
            ? err.message
            : String(err);
      this.#log.warn(
        `registry ${this.#url} unreachable (${why}); still serving, registering again when it answers`,
        { event: "registry unreachable", registry: this.#url },
      );
    }
    this.#registered = false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#register(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MS[1]);
  }
}
