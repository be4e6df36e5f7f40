/**
 * A node's Prometheus metrics, scraped by a real Prometheus (Debian's, on a
 * free loopback port with its own config and data directory) and read back
 * through Prometheus's query API; the Grafana dashboard in deploy/ asks
 * only for series a node serves; /metrics is guarded like the node.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { connect, type NodeConnection } from "../../client/connect.js";
import { createPool } from "../../client/pool.js";
import { RemoteError } from "../../client/remote-error.js";
import { createNode, type FerryNode } from "../../server/create-node.js";
import { serveMetrics } from "../../server/metrics-server.js";
import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import { ROOT } from "../helpers.js";
import { PrometheusServer } from "../prometheus-server.js";

class Calc {
  add(a: number, b: number) {
    return a + b;
  }
  half(n: number) {
    if (n % 2 !== 0) throw new ServerError(Code.INVALID_ARGUMENT, "n: must be even", { field: "n" });
    return n / 2;
  }
}

const metricsText = async (address: string, init?: RequestInit) =>
  (await fetch(`http://${address}/metrics`, init)).text();

describe("Prometheus scrapes a node that has served calls", { timeout: 120_000 }, () => {
  let node: FerryNode;
  let conn: NodeConnection;
  const prometheus = new PrometheusServer();

  before(async () => {
    node = createNode({ port: 0, workers: 1, metrics: "0" });
    node.expose("calc", new Calc(), { methods: ["add", "half"] });
    await node.listen();
    conn = connect(node.address?.target as string);
    await prometheus.start([node.metricsAddress as string]);
  });

  after(async () => {
    conn?.close();
    await node?.shutdown();
    await prometheus.stop();
  });

  test("calls by object, method and code, durations, load and process series come back through PromQL", async () => {
    const calc = conn.proxy<Calc>("calc");
    for (let i = 0; i < 20; i++) assert.equal(await calc.add(i, 1), i + 1);
    await assert.rejects(calc.half(3), RemoteError);
    const pool = createPool({ nodes: [node.address?.target as string] });
    try {
      await pool.map("calc.half", [2, 4, 6, 7], { errors: "return" });
    } finally {
      pool.close();
    }
    // Names the node does not expose: each a call, none a series.
    for (let i = 0; i < 25; i++) await assert.rejects(conn.call("calc", `nope${i}`, []), RemoteError);

    const value = (series: { value: [number, string] }[]) => Number(series[0]?.value[1] ?? Number.NaN);
    const add = await prometheus.until(
      'ferry_calls_total{object="calc",method="add",code="OK"}',
      (s) => value(s) === 20,
    );
    assert.equal(add[0]?.metric.job, "ferry");
    const half = await prometheus.until(
      'sum by (code) (ferry_calls_total{object="calc",method="half"})',
      (s) => s.length === 2,
    );
    assert.deepEqual(
      Object.fromEntries(half.map((s) => [s.metric.code, Number(s.value[1])])),
      { OK: 3, INVALID_ARGUMENT: 2 },
      "a call and a batch's entries, each with its code",
    );
    const unknown = await prometheus.query('ferry_calls_total{object="(unknown)"}');
    assert.deepEqual(
      unknown.map((s) => [s.metric.method, s.metric.code, Number(s.value[1])]),
      [["(unknown)", "UNIMPLEMENTED", 25]],
    );
    const series = await prometheus.query('count({__name__="ferry_calls_total", method=~"nope.*"})');
    assert.equal(series.length, 0, "a caller's method name made a series");
    const p99 = await prometheus.query(
      'histogram_quantile(0.99, sum by (le) (ferry_call_duration_seconds_bucket{object="calc",method="add"}))',
    );
    assert.ok(value(p99) > 0 && value(p99) <= 60, `p99 of calc.add: ${value(p99)}`);
    for (const [metric, expected] of [
      ["ferry_workers", 1],
      ["ferry_calls_in_flight", 0],
    ] as const) {
      assert.equal(value(await prometheus.query(metric)), expected, metric);
    }
    // An idle session ends its stream: opened ones stay counted.
    assert.ok(value(await prometheus.query("ferry_sessions_opened_total")) >= 1, "sessions opened");
    assert.ok(value(await prometheus.query("ferry_sent_bytes_total")) > 0, "bytes out are counted");
    assert.ok(value(await prometheus.query("process_resident_memory_bytes")) > 10e6, "process metrics");
    assert.ok(value(await prometheus.query("nodejs_eventloop_lag_seconds")) >= 0, "event-loop delay");
  });

  test("every metric the Grafana dashboard queries is one a node serves", async () => {
    const dashboard = JSON.parse(readFileSync(`${ROOT}/deploy/grafana/ferry-nodes.json`, "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { query: unknown }[] };
    };
    const served = new Set(
      (await metricsText(node.metricsAddress as string))
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ")[2] as string),
    );
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => String(v.query)),
    ];
    const asked = new Set(exprs.flatMap((e) => e.match(/\b(?:ferry|process|nodejs)_[a-z0-9_]+/g) ?? []));
    assert.ok(asked.size >= 10, `the dashboard asks for ${asked.size} metrics`);
    for (const name of asked) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      assert.ok(served.has(name) || served.has(base), `the dashboard asks for ${name}, which no node serves`);
    }
  });
});

describe("/metrics is guarded like the node", () => {
  test("with a token, a scrape needs it; only /metrics is served", async () => {
    const node = createNode({ port: 0, workers: 1, metrics: "0", token: "s3cret" });
    await node.listen();
    try {
      const address = node.metricsAddress as string;
      assert.equal((await fetch(`http://${address}/metrics`)).status, 401);
      const ok = await fetch(`http://${address}/metrics`, { headers: { authorization: "Bearer s3cret" } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^# HELP ferry_calls_total/m);
      const other = await fetch(`http://${address}/`, { headers: { authorization: "Bearer s3cret" } });
      assert.equal(other.status, 404);
    } finally {
      await node.shutdown();
    }
  });

  test("a reachable address with neither TLS nor a token is refused, in ferry's words", async () => {
    const registry = { metrics: async () => "", contentType: "text/plain" } as never;
    await assert.rejects(
      serveMetrics(registry, { host: "0.0.0.0", port: 0 }),
      /refusing to serve metrics on 0\.0\.0\.0:0 with neither TLS nor a token/,
    );
  });

  test("a metrics port in use fails listen() with one line, and the node does not stay up", async () => {
    const first = createNode({ port: 0, workers: 1, metrics: "0" });
    await first.listen();
    const port = (first.metricsAddress as string).split(":")[1];
    const second = createNode({ port: 0, workers: 1, metrics: port });
    try {
      await assert.rejects(
        second.listen(),
        /^Error: cannot serve metrics on 127\.0\.0\.1:\d+: the port is in use/,
      );
    } finally {
      await second.shutdown();
      await first.shutdown();
    }
  });
});
