/**
 * W3C trace context with a real OpenTelemetry SDK (sdk-trace-base with an
 * in-memory exporter, AsyncLocalStorage contexts): a client span for every
 * call and a node span under it, across proxies, pool batches, typed unary
 * calls and callbacks back to the client; failures mark both. Once the SDK
 * is gone, calls carry no trace and make no spans.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { connect, type NodeConnection } from "../../client/connect.js";
import { createPool, type Pool } from "../../client/pool.js";
import { currentCall } from "../../server/call-context.js";
import type { FerryNode } from "../../server/create-node.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { formatTraceparent, parseTraceparent } from "../../src/trace-context.js";
import { startNode } from "../helpers.js";

class Traced {
  add(a: number, b: number) {
    return a + b;
  }
  /** The trace context the caller sent, as the method sees it. */
  traceparent() {
    return currentCall().traceparent ?? "";
  }
  async twice(f: (n: number) => Promise<number>) {
    return (await f(1)) + (await f(2));
  }
  fail() {
    throw new Error("no such luck");
  }
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contexts = new AsyncLocalStorageContextManager();
let node: FerryNode;
let target: string;
let conn: NodeConnection;
let pool: Pool;

before(async () => {
  context.setGlobalContextManager(contexts.enable());
  trace.setGlobalTracerProvider(provider);
  ({ node, target } = await startNode({ workers: 1 }));
  node.expose("traced", new Traced(), { methods: ["add", "traceparent", "twice", "fail"] });
  conn = connect(target);
  pool = createPool({ nodes: [target] });
});

after(async () => {
  pool?.close();
  conn?.close();
  await node?.shutdown();
  trace.disable();
  context.disable();
});

const tracer = () => trace.getTracer("ferry tests");

/** Runs `fn` under a fresh span of the test's own, and returns it with the spans it made. */
async function underSpan(fn: () => Promise<unknown>): Promise<{ root: ReadableSpan; spans: ReadableSpan[] }> {
  exporter.reset();
  await tracer().startActiveSpan("test", async (span) => {
    try {
      await fn();
    } catch {
      // Failures are what some tests look at.
    } finally {
      span.end();
    }
  });
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  const root = spans.find((s) => s.name === "test") as ReadableSpan;
  assert.ok(root, "the test's own span");
  return { root, spans };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

function one(spans: ReadableSpan[], name: string, kind: SpanKind): ReadableSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  assert.equal(
    found.length,
    1,
    `one ${SpanKind[kind]} span ${name}, got ${spans.map((s) => s.name).join(", ")}`,
  );
  return found[0] as ReadableSpan;
}

test("a proxy call makes a client span under the caller's, and the node's span under it", async () => {
  const traced = conn.proxy<Traced>("traced");
  let seen = "";
  const { root, spans } = await underSpan(async () => {
    assert.equal(await traced.add(2, 3), 5);
    seen = await traced.traceparent();
  });
  const client = one(spans, "traced/add", SpanKind.CLIENT);
  const server = one(spans, "traced/add", SpanKind.SERVER);
  assert.equal(parentOf(client), root.spanContext().spanId);
  assert.equal(parentOf(server), client.spanContext().spanId);
  assert.equal(server.spanContext().traceId, root.spanContext().traceId);
  assert.equal(server.attributes["rpc.system"], "ferry");
  assert.equal(server.attributes["rpc.method"], "add");
  assert.equal(server.status.code, SpanStatusCode.UNSET);
  // The method saw its caller's span as the traceparent.
  const asked = one(spans, "traced/traceparent", SpanKind.CLIENT);
  assert.equal(seen, formatTraceparent(asked.spanContext()));
});

test("a callback to the client is a span of the node's call, and the client runs it in a span under that", async () => {
  const traced = conn.proxy<Traced>("traced");
  const { spans } = await underSpan(async () => {
    assert.equal(await traced.twice(async (n) => n * 10), 30);
  });
  const server = one(spans, "traced/twice", SpanKind.SERVER);
  const out = spans.filter((s) => s.name === "callback/call" && s.kind === SpanKind.CLIENT);
  const back = spans.filter((s) => s.name === "callback/call" && s.kind === SpanKind.SERVER);
  assert.equal(out.length, 2);
  assert.equal(back.length, 2);
  for (const span of out) assert.equal(parentOf(span), server.spanContext().spanId);
  for (const span of back) {
    assert.ok(out.some((o) => o.spanContext().spanId === parentOf(span)));
  }
});

test("a pool map's batches are spans on both sides, with their entry counts", async () => {
  const { root, spans } = await underSpan(async () => {
    const sums = await pool.map(
      "traced.add",
      Array.from({ length: 50 }, (_, i) => [i, 1]),
    );
    assert.equal(sums.length, 50);
  });
  const clients = spans.filter((s) => s.name === "traced/add" && s.kind === SpanKind.CLIENT);
  const servers = spans.filter((s) => s.name === "traced/add" && s.kind === SpanKind.SERVER);
  assert.ok(clients.length >= 1);
  assert.equal(servers.length, clients.length, "one node span per batch");
  const entries = (list: ReadableSpan[]) =>
    list.reduce((sum, s) => sum + Number(s.attributes["ferry.batch.entries"] ?? 0), 0);
  assert.equal(entries(clients), 50);
  assert.equal(entries(servers), 50);
  for (const c of clients) assert.equal(parentOf(c), root.spanContext().spanId);
  for (const s of servers) assert.ok(clients.some((c) => c.spanContext().spanId === parentOf(s)));
});

test("a typed unary call carries the traceparent header; the node's span is its child", async () => {
  const primes = conn.service(PrimeChecker);
  const { spans } = await underSpan(async () => {
    assert.equal((await primes.isPrime({ n: 97n })).prime, true);
  });
  const client = one(spans, "ferry.v1.PrimeChecker/IsPrime", SpanKind.CLIENT);
  const server = spans.find((s) => s.kind === SpanKind.SERVER && parentOf(s) === client.spanContext().spanId);
  assert.ok(server, `a node span under the client's: ${spans.map((s) => `${s.name}/${SpanKind[s.kind]}`)}`);
});

test("a failing call marks both spans as errors", async () => {
  const traced = conn.proxy<Traced>("traced");
  const { spans } = await underSpan(() => traced.fail());
  for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
    const span = one(spans, "traced/fail", kind);
    assert.equal(span.status.code, SpanStatusCode.ERROR, SpanKind[kind]);
    assert.equal(span.attributes["rpc.grpc.status_code"], 2);
  }
});

test("traceparent: W3C's form both ways; malformed, version ff and zero ids are refused", () => {
  const text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const parsed = parseTraceparent(text);
  assert.deepEqual(parsed, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
    isRemote: true,
  });
  assert.equal(formatTraceparent(parsed as never), text);
  for (const bad of [
    "",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
  ]) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
  // A later version may add fields: its first four still count.
  assert.ok(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
});

test("with the SDK gone, calls carry no trace and make no spans", async () => {
  trace.disable();
  try {
    exporter.reset();
    const traced = conn.proxy<Traced>("traced");
    assert.equal(await traced.traceparent(), "");
    assert.equal(await traced.add(1, 1), 2);
    await provider.forceFlush();
    assert.deepEqual(exporter.getFinishedSpans(), []);
  } finally {
    trace.setGlobalTracerProvider(provider);
  }
});
