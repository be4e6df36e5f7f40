import type { StatsResponse } from "../src/gen/ferry/v1/node.js";
import { DURATION_BUCKETS } from "./call-stats.js";
import type { NodeObserver } from "./observer.js";

/** What a node's metrics and Node.Stats read of it, at the time they are asked. */
export interface NodeReadings {
  observer: NodeObserver;
  workers(): { total: number; busy: number; queued: number };
  /** Objects held for sessions now, over every session. */
  sessionObjects(): number;
  /** Connections open now; undefined when the node cannot count them. */
  connections(): number | undefined;
}

const counts = (values: readonly number[]) => values.map((n) => BigInt(n));

/** What Node.Stats answers: the observer's counts since the node started, and its load now. */
export function nodeStats(readings: NodeReadings, startedAt: number): StatsResponse {
  const { observer } = readings;
  const workers = readings.workers();
  return {
    methods: observer.methods().map((m) => ({
      object: m.object,
      method: m.method,
      codes: counts(m.codes),
      buckets: counts(m.buckets),
      seconds: m.seconds,
    })),
    bucketBoundsSeconds: [...DURATION_BUCKETS],
    inFlight: observer.inFlight.count,
    workers: workers.total,
    workersBusy: workers.busy,
    tasksQueued: workers.queued,
    sessions: observer.sessions,
    sessionObjects: readings.sessionObjects(),
    connections: readings.connections() ?? 0,
    bytesIn: BigInt(observer.bytesIn),
    bytesOut: BigInt(observer.bytesOut),
    uptimeSeconds: (performance.now() - startedAt) / 1000,
    rssBytes: BigInt(process.memoryUsage.rss()),
    refused: Object.fromEntries([...observer.refusals].map(([why, n]) => [why, BigInt(n)])),
  };
}
