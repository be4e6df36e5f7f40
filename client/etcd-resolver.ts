import { ExponentialBackoff, noop } from "cockatiel";
import { Etcd3, type IKeyValue, type Watcher } from "etcd3";
import {
  decodeRecord,
  matchesWhere,
  type NodeRecord,
  parseRegistryUrl,
  REGISTRY_PREFIX,
} from "../src/node-record.js";
import type { ResolvedNode, Resolver } from "./resolver.js";

/** Options of {@link EtcdResolver}. */
export interface EtcdResolverOptions {
  /** Only nodes carrying every one of these tags. */
  where?: Record<string, string>;
  /** Only nodes hosting this object. */
  object?: string;
}

/** Longest an etcd read may take. */
const CALL_TIMEOUT_MS = 2_000;

/** First and longest wait before reading the registry again after a failure. */
const RETRY_MS = [250, 5_000] as const;

/**
 * The nodes registered in etcd (see the node's `--registry`), followed live:
 * one read of the prefix, then a watch from the revision after it, so a node
 * that registers or whose lease expires is reported within moments. While
 * etcd is unreachable the last list stands and the watch reconnects.
 */
export class EtcdResolver implements Resolver {
  readonly description: string;
  readonly #client: Etcd3;
  readonly #options: EtcdResolverOptions;
  readonly #records = new Map<string, NodeRecord>();
  #watcher: Watcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryMs: number = RETRY_MS[0];
  #closed = false;

  constructor(url: string, options: EtcdResolverOptions = {}) {
    const { hosts, url: normalized } = parseRegistryUrl(url);
    this.#options = options;
    const where = Object.entries(options.where ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    this.description = `${normalized}${where ? ` where ${where}` : ""}${options.object ? ` hosting ${options.object}` : ""}`;
    this.#client = new Etcd3({
      hosts,
      dialTimeout: CALL_TIMEOUT_MS,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
      faultHandling: {
        host: () => noop,
        global: noop,
        // etcd3 calls next() on it (a backoff factory), though its type says IBackoff.
        watchBackoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2_000 }) as never,
      },
    });
  }

  /** Every matching node now: one read, no watch. */
  async list(): Promise<NodeRecord[]> {
    const response = await this.#client.getAll().prefix(REGISTRY_PREFIX).exec();
    const records: NodeRecord[] = [];
    for (const kv of response.kvs) {
      const record = this.#decode(kv);
      if (record) records.push(record);
    }
    return records;
  }

  start(update: (nodes: ResolvedNode[]) => void, error: (err: Error) => void): void {
    const emit = () =>
      update([...this.#records.values()].map((record) => ({ target: record.address, record })));
    const load = async () => {
      try {
        const response = await this.#client.getAll().prefix(REGISTRY_PREFIX).exec();
        if (this.#closed) return;
        this.#records.clear();
        for (const kv of response.kvs) this.#put(kv);
        emit();
        const next = BigInt(response.header.revision) + 1n;
        const watcher = await this.#client
          .watch()
          .prefix(REGISTRY_PREFIX)
          .startRevision(String(next))
          .create();
        if (this.#closed) {
          void watcher.cancel();
          return;
        }
        this.#watcher = watcher;
        this.#retryMs = RETRY_MS[0];
        watcher.on("put", (kv) => {
          this.#put(kv);
          emit();
        });
        watcher.on("delete", (kv) => {
          if (this.#records.delete(kv.key.toString())) emit();
        });
        watcher.on("disconnected", (err) =>
          error(new Error(`${this.description}: ${err.message}`, { cause: err })),
        );
        watcher.on("error", (err) => error(new Error(`${this.description}: ${err.message}`, { cause: err })));
      } catch (err) {
        if (this.#closed) return;
        error(new Error(`${this.description} unreachable: ${(err as Error).message}`, { cause: err }));
        this.#timer = setTimeout(() => void load(), this.#retryMs);
        this.#timer.unref();
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MS[1]);
      }
    };
    void load();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    void watcher?.cancel().catch(() => {});
    this.#client.close();
  }

  #put(kv: IKeyValue): void {
    const key = kv.key.toString();
    const record = this.#decode(kv);
    if (record) this.#records.set(key, record);
    else this.#records.delete(key);
  }

  #decode(kv: IKeyValue): NodeRecord | undefined {
    const record = decodeRecord(kv.value.toString());
    if (!record || !matchesWhere(record, this.#options.where)) return undefined;
    if (this.#options.object !== undefined && !record.objects.includes(this.#options.object))
      return undefined;
    return record;
  }
}
