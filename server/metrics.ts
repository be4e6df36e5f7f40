import { collectDefaultMetrics, Registry } from "prom-client";
import { codeName } from "../src/code.js";
import { DURATION_BUCKETS } from "./call-stats.js";
import type { NodeReadings } from "./node-stats.js";

/** One sample of a metric, as prom-client's registry writes it (`metricName` for a histogram's parts). */
interface Sample {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

type Values = Sample[];

/** A metric whose values are read from the node when scraped, in Prometheus's own format. */
function readMetric(
  name: string,
  help: string,
  type: "counter" | "gauge" | "histogram",
  values: () => Values,
): object {
  return {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({ name, help, type, aggregator: "sum", values: values() }),
  };
}

/** One value, with labels. */
const one = (value: number, labels: Record<string, string> = {}): Values => [{ value, labels }];

/**
 * The Prometheus metrics of a node, all named `ferry_…` but for the process
 * and Node.js ones prom-client collects by default (CPU, memory, event-loop
 * delay, handles). Calls are read from the node's observer when scraped, so
 * observing a call costs what counting it costs, never a label lookup. The
 * `object` and `method` labels take only names the node exposes or serves.
 */
export function nodeMetrics(source: NodeReadings): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { observer } = source;
  const add = (name: string, help: string, type: "counter" | "gauge" | "histogram", values: () => Values) =>
    registry.registerMetric(readMetric(name, help, type, values) as never);

  add("ferry_calls_total", "Calls answered, by object, method and gRPC status code.", "counter", () =>
    observer
      .methods()
      .flatMap((m) =>
        m.codes.flatMap((n, code) =>
          n === 0 ? [] : [{ value: n, labels: { object: m.object, method: m.method, code: codeName(code) } }],
        ),
      ),
  );
  add(
    "ferry_call_duration_seconds",
    "Time from a call's arrival to its answer (a batch's entries: the batch's), by object and method.",
    "histogram",
    () =>
      observer.methods().flatMap((m) => {
        const labels = { object: m.object, method: m.method };
        const out: Values = [];
        let seen = 0;
        for (let b = 0; b < DURATION_BUCKETS.length; b++) {
          seen += m.buckets[b] as number;
          out.push({
            metricName: "ferry_call_duration_seconds_bucket",
            value: seen,
            labels: { ...labels, le: String(DURATION_BUCKETS[b]) },
          });
        }
        const count = seen + (m.buckets[DURATION_BUCKETS.length] as number);
        out.push({
          metricName: "ferry_call_duration_seconds_bucket",
          value: count,
          labels: { ...labels, le: "+Inf" },
        });
        out.push({ metricName: "ferry_call_duration_seconds_sum", value: m.seconds, labels });
        out.push({ metricName: "ferry_call_duration_seconds_count", value: count, labels });
        return out;
      }),
  );
  add("ferry_calls_in_flight", "Calls being served now.", "gauge", () => one(observer.inFlight.count));
  add("ferry_workers", "Worker threads: the node's slots for CPU-bound calls.", "gauge", () =>
    one(source.workers().total),
  );
  add("ferry_workers_busy", "Worker threads running a task now.", "gauge", () => one(source.workers().busy));
  add("ferry_tasks_queued", "Tasks waiting for a worker thread.", "gauge", () =>
    one(source.workers().queued),
  );
  add("ferry_sessions", "Client sessions open now.", "gauge", () => one(observer.sessions));
  add("ferry_sessions_opened_total", "Client sessions opened since the node started.", "counter", () =>
    one(observer.sessionsOpened),
  );
  add(
    "ferry_session_objects",
    "Objects held for sessions now (session-mode instances and references).",
    "gauge",
    () => one(source.sessionObjects()),
  );
  add("ferry_connections", "Client connections open now.", "gauge", () => {
    const open = source.connections();
    return open === undefined ? [] : one(open);
  });
  add("ferry_refused_calls_total", "Calls turned away before they ran, by reason.", "counter", () =>
    [...observer.refusals].map(([reason, value]) => ({ value, labels: { reason } })),
  );
  add("ferry_fetches_total", "Fetcher fetches, by outcome (ok, or the failure's kind).", "counter", () =>
    [...observer.fetches].map(([outcome, value]) => ({ value, labels: { outcome } })),
  );
  add("ferry_received_bytes_total", "Bytes of gRPC messages received.", "counter", () =>
    one(observer.bytesIn),
  );
  add("ferry_sent_bytes_total", "Bytes of gRPC messages sent.", "counter", () => one(observer.bytesOut));
  return registry;
}
