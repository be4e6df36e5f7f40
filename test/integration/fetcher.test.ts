import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, test } from "node:test";
import { connect, type NodeConnection } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { FetchFailure } from "../../src/gen/ferry/v1/fetch.js";
import { defer, startNode } from "../helpers.js";

let pages: Server;
let base: string;
/** Resolved when the page server sees a request to /held, and when that request's connection closes. */
let held = { arrived: defer(), closed: defer() };
const sockets = new Set<Socket>();
let node: FerryNode;
let conn: NodeConnection;

before(async () => {
  pages = createServer((req, res) => {
    switch (req.url) {
      case "/page":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(
          "<html><head><title>Fish &amp; Chips &#8212; caf&eacute;</title></head><body>hi</body></html>",
        );
        return;
      case "/redirect":
        res.writeHead(302, { location: "/page" });
        res.end();
        return;
      case "/loop":
        res.writeHead(301, { location: "/loop" });
        res.end();
        return;
      case "/json":
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"title":"not a page"}');
        return;
      case "/huge": {
        res.writeHead(200, { "content-type": "text/html" });
        const chunk = Buffer.alloc(64 * 1024, "a");
        let sent = 0;
        const pump = () => {
          while (sent < 50 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
        return;
      }
      case "/slow":
        // Never answers; the fetch's time limit must end it.
        return;
      case "/to-loopback":
        // Allowed 127.0.0.1 sends the fetch on to 127.0.0.2, which is not.
        res.writeHead(302, { location: `http://127.0.0.2:${(pages.address() as AddressInfo).port}/page` });
        res.end();
        return;
      case "/to-metadata":
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
        res.end();
        return;
      case "/held":
        // Never answers; the caller cancels.
        held.arrived.resolve();
        req.socket.once("close", () => held.closed.resolve());
        return;
      default:
        res.writeHead(404, { "content-type": "text/html" });
        res.end("<title>Not Found</title>");
    }
  });
  pages.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  ({ node } = await startNode({
    workers: 1,
    fetch: { maxBodyBytes: 1024 * 1024, timeoutMs: 5000, allow: ["127.0.0.1/32"] },
  }));
  conn = connect(node.address?.target ?? "");
});

after(async () => {
  conn.close();
  await node.shutdown();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => pages.close(resolve));
});

const expectCode = (code: Code, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RemoteError, String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.details, pattern);
  return true;
};

test("Fetch reads the title with entities decoded, following redirects", async () => {
  const r = await conn.fetcher.fetch({ url: `${base}/redirect` });
  assert.equal(r.status, 200);
  assert.equal(r.title, "Fish & Chips \u2014 caf\u00e9");
  assert.equal(r.finalUrl, `${base}/page`);
  assert.equal(r.redirects, 1);
  assert.match(r.contentType, /text\/html/);
  assert.ok(r.bytes > 50n);
  assert.equal(r.failure, FetchFailure.FETCH_FAILURE_UNSPECIFIED);
});

test("non-HTML has no title; an HTTP error status is a result", async () => {
  const json = await conn.fetcher.fetch({ url: `${base}/json` });
  assert.deepEqual([json.status, json.title, json.bytes], [200, "", 22n]);
  const missing = await conn.fetcher.fetch({ url: `${base}/missing` });
  assert.deepEqual([missing.status, missing.title], [404, "Not Found"]);
});

test("bad URLs are INVALID_ARGUMENT naming the url field", async () => {
  for (const url of ["not a url", "ftp://example.com/x", "file:///etc/passwd", ""]) {
    await assert.rejects(conn.fetcher.fetch({ url }), (err: unknown) => {
      expectCode(Code.INVALID_ARGUMENT, /^url: /)(err);
      assert.equal((err as RemoteError).field, "url");
      return true;
    });
  }
});

test("fetch failures map to status codes and the node keeps serving", async () => {
  await assert.rejects(
    conn.fetcher.fetch({ url: `${base}/slow`, timeoutMs: 200 }),
    expectCode(Code.DEADLINE_EXCEEDED, /time/),
  );
  await assert.rejects(
    conn.fetcher.fetch({ url: `${base}/huge` }),
    expectCode(Code.RESOURCE_EXHAUSTED, /maxBodyBytes/),
  );
  await assert.rejects(conn.fetcher.fetch({ url: `${base}/loop` }), expectCode(Code.ABORTED, /redirect/));
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  await assert.rejects(
    conn.fetcher.fetch({ url: `http://127.0.0.1:${closedPort}/` }),
    expectCode(Code.UNAVAILABLE, /./),
  );
  await assert.rejects(
    conn.fetcher.fetch({ url: `${base}/page`, timeoutMs: 3_600_000 }),
    expectCode(Code.INVALID_ARGUMENT, /timeoutMs: must be at most 60000/),
  );
  assert.equal((await conn.fetcher.fetch({ url: `${base}/page` })).status, 200);
});

test("cancelling a fetch closes its request on the page server; the node keeps serving", async () => {
  held = { arrived: defer(), closed: defer() };
  const controller = new AbortController();
  const call = conn.fetcher.fetch({ url: `${base}/held` }, { signal: controller.signal });
  await held.arrived.promise;
  controller.abort();
  await assert.rejects(call, (err: unknown) => err instanceof Error && /abort|cancel/i.test(String(err)));
  await held.closed.promise;
  assert.equal((await conn.fetcher.fetch({ url: `${base}/redirect` })).title, "Fish & Chips — café");
});

test("the Fetcher refuses non-public addresses, named or resolved, and on every redirect", async () => {
  const port = (pages.address() as AddressInfo).port;
  const { node: strict } = await startNode({ workers: 1 });
  const guarded = connect(strict.address?.target ?? "");
  try {
    for (const [url, what] of [
      [
        `http://127.0.0.1:${port}/page`,
        /127\.0\.0\.1 is a loopback address.*--fetch-allow 127\.0\.0\.1\/32 permits it/,
      ],
      [`http://localhost:${port}/page`, /localhost resolves to (127\.0\.0\.1|::1) is a loopback address/],
      [`http://[::1]:${port}/page`, /::1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/page`, /127\.0\.0\.1 is a loopback address/],
      ["http://169.254.169.254/latest/meta-data/", /link-local address \(cloud metadata/],
      ["http://10.1.2.3/", /a private address/],
      ["http://192.168.0.1/", /a private address/],
      ["http://[fd00::1]/", /unique local/],
      ["http://0.0.0.0/", /unspecified/],
    ] as const) {
      await assert.rejects(guarded.fetcher.fetch({ url }), expectCode(Code.PERMISSION_DENIED, what), url);
    }
    const many = [];
    for await (const r of guarded.fetcher.fetchMany({
      urls: [`http://127.0.0.1:${port}/page`],
      concurrency: 1,
    })) {
      many.push(r);
    }
    assert.equal(many[0]?.result?.failure, FetchFailure.FETCH_FAILURE_FORBIDDEN);
    assert.match(many[0]?.result?.error ?? "", /loopback/);
  } finally {
    guarded.close();
    await strict.shutdown();
  }
  // Allowed 127.0.0.1/32 only: redirects elsewhere are checked again.
  await assert.rejects(
    conn.fetcher.fetch({ url: `${base}/to-loopback` }),
    expectCode(Code.PERMISSION_DENIED, /127\.0\.0\.2 is a loopback address/),
  );
  await assert.rejects(
    conn.fetcher.fetch({ url: `${base}/to-metadata` }),
    expectCode(Code.PERMISSION_DENIED, /169\.254\.169\.254/),
  );
  assert.equal((await conn.fetcher.fetch({ url: `${base}/page` })).status, 200);
});

test("FetchMany streams every URL's result, failures in place", async () => {
  const urls = [
    `${base}/page`,
    `${base}/json`,
    "ftp://nope",
    `${base}/slow`,
    `${base}/redirect`,
    `${base}/page`,
  ];
  const results = new Map<number, { status: number; title: string; failure: FetchFailure }>();
  for await (const r of conn.fetcher.fetchMany(
    { urls, concurrency: 3, timeoutMs: 300 },
    { timeoutMs: 10_000 },
  )) {
    assert.ok(r.result);
    assert.equal(r.result.url, urls[r.index]);
    results.set(r.index, r.result);
  }
  assert.equal(results.size, urls.length);
  assert.equal(results.get(0)?.title, "Fish & Chips \u2014 caf\u00e9");
  assert.equal(results.get(1)?.status, 200);
  assert.equal(results.get(2)?.failure, FetchFailure.FETCH_FAILURE_INVALID_URL);
  assert.equal(results.get(3)?.failure, FetchFailure.FETCH_FAILURE_TIMEOUT);
  assert.equal(results.get(4)?.title, "Fish & Chips \u2014 caf\u00e9");
  await assert.rejects(
    (async () => {
      for await (const _ of conn.fetcher.fetchMany({ urls, concurrency: 5000 })) {
        // drain
      }
    })(),
    expectCode(Code.INVALID_ARGUMENT, /concurrency: must be at most 1000/),
  );
});
