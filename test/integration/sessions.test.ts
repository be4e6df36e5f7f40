import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { connect } from "../../client/connect.js";
import { withOptions } from "../../client/proxy.js";
import { STREAM_WINDOW_ITEMS } from "../../client/session-call.js";
import { currentCall } from "../../server/call-context.js";
import type { FerryNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { ObjectsClient, type SessionResponse } from "../../src/gen/ferry/v1/objects.js";
import type { Value } from "../../src/gen/ferry/v1/value.js";
import { defer, startNode } from "../helpers.js";

let streamStarted = defer();
let streamFinished = defer();
let logged = defer<string>();

class Feed {
  async *ticks() {
    const { signal } = currentCall();
    streamStarted.resolve();
    try {
      for (let i = 0; ; i++) {
        if (signal.aborted) return;
        yield i;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      streamFinished.resolve();
    }
  }
  log(line: string) {
    logged.resolve(line);
  }
  echo(value: unknown) {
    return value;
  }
  /** Items `count` has yielded so far: how far the node ran ahead of its caller. */
  produced = 0;
  async *count(n: number) {
    this.produced = 0;
    for (let i = 0; i < n; i++) {
      this.produced = i + 1;
      yield i;
    }
  }
}

let feed: Feed;

let node: FerryNode;
let target: string;
let raw: ObjectsClient;

before(async () => {
  ({ node, target } = await startNode({ workers: 1 }));
  feed = new Feed();
  node.expose("feed", feed, { methods: ["ticks", "log", "echo", "count"], oneway: ["log"] });
  raw = new ObjectsClient(target, credentials.createInsecure());
});

after(async () => {
  raw.close();
  await node.shutdown();
});

function openRaw() {
  const frames: SessionResponse[] = [];
  const stream = raw.session();
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on("data", (f: SessionResponse) => frames.push(f));
    stream.on("error", (e: ServiceError) => resolve(e));
    stream.on("end", () => resolve(undefined));
  });
  return { stream, frames, ended };
}

test("a client that vanishes mid-stream: the node stops the method and frees the session", async () => {
  streamStarted = defer();
  streamFinished = defer();
  const { stream, ended } = openRaw();
  stream.write({
    messages: [
      {
        call: {
          id: 1n,
          object: "feed",
          method: "ticks",
          args: [],
          timeoutMs: 60_000,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
    ],
  });
  await streamStarted.promise;
  stream.cancel();
  await ended;
  await streamFinished.promise;
  const conn = connect(target);
  for (let i = 0; i < 1000 && (await conn.node.info({})).inFlight > 0; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal((await conn.node.info({})).inFlight, 0);
  conn.close();
});

test("a slow for-await loop holds the node's stream to its window", async () => {
  const conn = connect(target);
  try {
    const proxy = conn.proxy<Feed>("feed");
    let taken = 0;
    let ahead = 0;
    for await (const i of proxy.count(20_000)) {
      assert.equal(i, taken);
      taken++;
      ahead = Math.max(ahead, feed.produced - taken);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(taken, 20_000);
    // The node may run a window ahead of what it has been told, and it is told a quarter window at a time.
    assert.ok(
      ahead <= STREAM_WINDOW_ITEMS + STREAM_WINDOW_ITEMS / 4 + 1,
      `the method ran ${ahead} items ahead of the loop; window ${STREAM_WINDOW_ITEMS}`,
    );
    // With its own window, a proxy's streams stop sooner.
    const narrow = conn.proxy<Feed>("feed", { streamWindow: 16 });
    taken = 0;
    ahead = 0;
    for await (const _ of narrow.count(2_000)) {
      taken++;
      ahead = Math.max(ahead, feed.produced - taken);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(taken, 2_000);
    assert.ok(ahead <= 16 + 4 + 1, `ran ${ahead} items ahead with a window of 16`);
    const bad = /streamWindow must be a whole number of items from 1 to 2\^32-1, got 0/;
    assert.throws(() => conn.proxy<Feed>("feed", { streamWindow: 0 }), bad);
    assert.throws(() => withOptions(narrow, { streamWindow: 0 }), bad);
  } finally {
    conn.close();
  }
});

test("a stream nobody reads yet stops at its window, and all of it arrives once awaited", async () => {
  const conn = connect(target);
  try {
    feed.produced = 0;
    const call = conn.proxy<Feed>("feed").count(5_000);
    while (feed.produced < STREAM_WINDOW_ITEMS) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(feed.produced, STREAM_WINDOW_ITEMS, "the method waits once it has sent a window");
    const items = await call;
    assert.equal(items.length, 5_000);
    assert.equal(items[4_999], 4_999);
  } finally {
    conn.close();
  }
});

test("without a window (other languages' clients) a stream still waits for the connection", async () => {
  const { stream, frames, ended } = openRaw();
  const total = 200_000;
  let received = 0;
  let ahead = 0;
  stream.on("data", (f: SessionResponse) => {
    for (const m of f.messages) if (m.item) received++;
    ahead = Math.max(ahead, feed.produced - received);
  });
  stream.write({
    messages: [
      {
        call: {
          id: 1n,
          object: "feed",
          method: "count",
          args: [{ doubleValue: total }],
          timeoutMs: 60_000,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
    ],
  });
  while (!frames.some((f) => f.messages.some((m) => m.end))) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  stream.end();
  assert.equal(await ended, undefined);
  assert.equal(received, total);
  // Unbounded, the generator (which never waits) would run all 200,000 items before the first frame left.
  assert.ok(ahead < total / 4, `the method ran ${ahead} items ahead of the client`);
});

test("a malformed frame ends the session with INVALID_ARGUMENT; the node keeps serving", async () => {
  const { stream, ended } = openRaw();
  stream.write({ messages: [{}] });
  const err = await ended;
  assert.equal(err?.code, Code.INVALID_ARGUMENT);
  assert.match(err?.details ?? "", /no known kind/);
  const again = openRaw();
  again.stream.write({
    messages: [
      {
        call: {
          id: 5n,
          object: "feed",
          method: "echo",
          args: [{ stringValue: "a" }],
          timeoutMs: 0,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
      {
        call: {
          id: 5n,
          object: "feed",
          method: "echo",
          args: [{ stringValue: "b" }],
          timeoutMs: 0,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
    ],
  });
  const dup = await again.ended;
  assert.equal(dup?.code, Code.INVALID_ARGUMENT);
  assert.match(dup?.details ?? "", /call id 5 is already running/);
  const conn = connect(target);
  assert.equal(await conn.proxy<Feed>("feed").echo("still here"), "still here");
  conn.close();
});

test("values too deep or too large are refused per call; the session goes on", async () => {
  const { stream, frames, ended } = openRaw();
  let deep: Value = { boolValue: true };
  for (let i = 0; i < 40; i++) deep = { listValue: { values: [deep] } };
  const wide: Value = { listValue: { values: Array.from({ length: 300 }, () => ({ boolValue: true })) } };
  stream.write({
    messages: [
      {
        call: {
          id: 1n,
          object: "feed",
          method: "echo",
          args: [deep],
          timeoutMs: 0,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
      {
        call: {
          id: 2n,
          object: "feed",
          method: "echo",
          args: wide.listValue?.values ?? [],
          timeoutMs: 0,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
      {
        call: {
          id: 3n,
          object: "feed",
          method: "echo",
          args: [{ stringValue: "ok" }],
          timeoutMs: 0,
          oneway: false,
          streamWindow: 0,
          traceparent: "",
        },
      },
    ],
  });
  stream.end();
  assert.equal(await ended, undefined);
  const results = new Map(frames.flatMap((f) => f.messages).map((m) => [m.result?.id, m.result]));
  assert.equal(results.get(1n)?.error?.code, Code.INVALID_ARGUMENT);
  assert.match(results.get(1n)?.error?.message ?? "", /nested deeper than maxDepth/);
  assert.equal(results.get(2n)?.error?.code, Code.INVALID_ARGUMENT);
  assert.match(results.get(2n)?.error?.message ?? "", /at most 256 arguments/);
  assert.equal(results.get(3n)?.value?.stringValue, "ok");
});

test("oneway methods run without the caller waiting for them", async () => {
  logged = defer<string>();
  const conn = connect(target);
  const feed = conn.proxy<Feed>("feed");
  assert.equal(await feed.log("fire and forget"), undefined);
  assert.equal(await logged.promise, "fire and forget");
  conn.close();
});

test("shutdown ends open sessions once their calls answer, without waiting out the grace period", {
  timeout: 30_000,
}, async () => {
  const { node: stopping, target: stoppingTarget } = await startNode({ workers: 1 });
  stopping.expose("feed", new Feed(), { methods: ["echo"] });
  const conn = connect(stoppingTarget);
  try {
    const feed = conn.proxy<Feed>("feed");
    assert.equal(await feed.echo(1), 1);
    // The session stays open and idle; a ten-minute grace must not be needed.
    await stopping.shutdown(600_000);
    await assert.rejects(feed.echo(2), (err: unknown) => err instanceof Error);
  } finally {
    conn.close();
  }
});
