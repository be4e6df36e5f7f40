import type { StatsResponse } from "../src/gen/ferry/v1/node.js";
import { type CallRates, clusterMethodRates, type MethodRates, nodeRates } from "../src/node-rates.js";
import { connect, type NodeConnection } from "./connect.js";
import type { Pool } from "./pool.js";
import type { SecurityOptions } from "./security.js";

/** How long one Node.Stats may take before the node shows as down. */
const STATS_TIMEOUT_MS = 1_000;

/** One node as a watcher sees it. */
export interface NodeView {
  target: string;
  /** joining: listed but not answered yet; down: not answering (see `error`). */
  state: "up" | "down" | "joining";
  error?: string;
  rates: CallRates;
  workers: number;
  workersBusy: number;
  tasksQueued: number;
  inFlight: number;
  sessions: number;
  rssBytes: number;
  uptimeSeconds: number;
}

/** The cluster at one moment: its nodes, and its methods over all of them. */
export interface ClusterSnapshot {
  /** When it was taken (ms since the epoch). */
  at: number;
  nodes: NodeView[];
  methods: MethodRates[];
}

interface Watched {
  conn: NodeConnection;
  last: { stats: StatsResponse; at: number } | undefined;
}

const NO_CALLS: CallRates = { callsPerSecond: 0, errorsPerSecond: 0, p50: 0, p99: 0 };

/**
 * Watches a pool's nodes through Node.Stats: each sample asks every node
 * the pool lists (as they join and leave) for its counts, and gives each
 * node's and each method's rates since the sample before.
 */
export class ClusterWatch {
  readonly #pool: Pool;
  readonly #security: SecurityOptions;
  readonly #watched = new Map<string, Watched>();

  constructor(pool: Pool, security: SecurityOptions = {}) {
    this.#pool = pool;
    this.#security = security;
  }

  async sample(): Promise<ClusterSnapshot> {
    const listed = this.#pool.stats();
    const targets = new Set(listed.map((n) => n.target));
    for (const [target, watched] of this.#watched) {
      if (targets.has(target)) continue;
      watched.conn.close();
      this.#watched.delete(target);
    }
    const pairs: Parameters<typeof clusterMethodRates>[0][number][] = [];
    const nodes = await Promise.all(
      listed.map(async (member): Promise<NodeView> => {
        let watched = this.#watched.get(member.target);
        if (!watched) {
          watched = { conn: connect(member.target, this.#security), last: undefined };
          this.#watched.set(member.target, watched);
        }
        const blank = {
          target: member.target,
          rates: NO_CALLS,
          workers: member.slots,
          workersBusy: 0,
          tasksQueued: 0,
          inFlight: 0,
          sessions: 0,
          rssBytes: 0,
          uptimeSeconds: 0,
        };
        if (member.state === "connecting") return { ...blank, state: "joining" };
        try {
          const stats = await watched.conn.node.stats({}, { timeoutMs: STATS_TIMEOUT_MS });
          const at = performance.now();
          const before = watched.last;
          const seconds = before ? (at - before.at) / 1000 : 0;
          watched.last = { stats, at };
          pairs.push({ now: stats, before: before?.stats, seconds });
          return {
            target: member.target,
            state: member.state === "up" ? "up" : "down",
            ...(member.state === "up" ? {} : { error: member.error?.details ?? member.state }),
            rates: nodeRates(stats, before?.stats, seconds),
            workers: stats.workers,
            workersBusy: stats.workersBusy,
            tasksQueued: stats.tasksQueued,
            inFlight: stats.inFlight,
            sessions: stats.sessions,
            rssBytes: Number(stats.rssBytes),
            uptimeSeconds: stats.uptimeSeconds,
          };
        } catch (err) {
          watched.last = undefined;
          const why = member.error?.details ?? (err as { details?: string }).details ?? String(err);
          return { ...blank, state: "down", error: why };
        }
      }),
    );
    return { at: Date.now(), nodes, methods: clusterMethodRates(pairs) };
  }

  close(): void {
    for (const { conn } of this.#watched.values()) conn.close();
    this.#watched.clear();
  }
}
