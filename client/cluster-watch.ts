import type { StatsResponse } from "../src/gen/ferry/v1/node.js";
import { type CallRates, clusterMethodRates, type MethodRates, nodeRates } from "../src/node-rates.js";
import { connect, type NodeConnection } from "./connect.js";
import type { MapStats } from "./map-tally.js";
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
  /** What the node said of itself in Node.Info ("" until it has answered). */
  version: string;
  hostname: string;
  /** Its registered tags (empty for a node given by address). */
  tags: Record<string, string>;
  rates: CallRates;
  /** Calls answered since the node started, and those that did not end OK. */
  calls: number;
  errors: number;
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
  /** Why some source of nodes is not answering (a registry unreachable); the last list stands. */
  problems: string[];
  /** The watched pool's own maps running now (see `pool.maps()`). */
  maps: MapStats[];
}

interface Watched {
  conn: NodeConnection;
  last: { stats: StatsResponse; at: number } | undefined;
  /** From the node's first Node.Info answer. */
  about: { version: string; hostname: string } | undefined;
}

const NO_CALLS: CallRates = { callsPerSecond: 0, errorsPerSecond: 0, p50: 0, p99: 0 };

/** A node's calls and errors since it started, over all its methods. */
function answered(stats: StatsResponse): { calls: number; errors: number } {
  let calls = 0n;
  let ok = 0n;
  for (const m of stats.methods) {
    for (const n of m.codes) calls += n;
    ok += m.codes[0] ?? 0n;
  }
  return { calls: Number(calls), errors: Number(calls - ok) };
}

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
          watched = { conn: connect(member.target, this.#security), last: undefined, about: undefined };
          this.#watched.set(member.target, watched);
        }
        const blank = {
          target: member.target,
          version: watched.about?.version ?? "",
          hostname: watched.about?.hostname ?? "",
          tags: member.tags ?? {},
          rates: NO_CALLS,
          calls: 0,
          errors: 0,
          workers: member.slots,
          workersBusy: 0,
          tasksQueued: 0,
          inFlight: 0,
          sessions: 0,
          rssBytes: 0,
          uptimeSeconds: 0,
        };
        try {
          // Info first: the Stats after it counts it, so the watcher's own call is no rate.
          if (!watched.about) {
            const info = await watched.conn.node.info({}, { timeoutMs: STATS_TIMEOUT_MS });
            watched.about = { version: info.version, hostname: info.hostname };
          }
          const stats = await watched.conn.node.stats({}, { timeoutMs: STATS_TIMEOUT_MS });
          const at = performance.now();
          const before = watched.last;
          const seconds = before ? (at - before.at) / 1000 : 0;
          watched.last = { stats, at };
          pairs.push({ now: stats, before: before?.stats, seconds });
          return {
            ...blank,
            version: watched.about.version,
            hostname: watched.about.hostname,
            // It answered: up, though the pool may not have probed it back yet, unless its build is refused.
            state: member.state === "incompatible" ? "down" : "up",
            ...(member.state === "incompatible" ? { error: member.error?.details ?? member.state } : {}),
            rates: nodeRates(stats, before?.stats, seconds),
            ...answered(stats),
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
          watched.about = undefined;
          if (member.state === "connecting") return { ...blank, state: "joining" };
          const why = member.error?.details ?? (err as { details?: string }).details ?? String(err);
          return { ...blank, state: "down", error: why };
        }
      }),
    );
    return {
      at: Date.now(),
      nodes,
      methods: clusterMethodRates(pairs),
      problems: this.#pool.problems(),
      maps: this.#pool.maps(),
    };
  }

  close(): void {
    for (const { conn } of this.#watched.values()) conn.close();
    this.#watched.clear();
  }
}
