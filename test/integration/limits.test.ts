import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as connectHttp2 } from "node:http2";
import net from "node:net";
import { test } from "node:test";
import { connect } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code } from "../../src/code.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { defer, runCli, startNode, within } from "../helpers.js";
import { waitFor } from "../hostile-wire.js";

test("a node past maxCallsInFlight refuses more calls with RESOURCE_EXHAUSTED, and serves again after", async () => {
  const gate = defer();
  let started = 0;
  const twoRunning = defer();
  const { node, target } = await startNode({ workers: 1, limits: { maxCallsInFlight: 2 } });
  node.expose(
    "slow",
    {
      async hold() {
        if (++started === 2) twoRunning.resolve();
        await gate.promise;
        return "done";
      },
    },
    { methods: ["hold"] },
  );
  const conn = connect(`ferry://${target}/slow`);
  const other = connect(target);
  try {
    const slow = conn.proxy<{ hold(): Promise<string> }>();
    const held = [slow.hold(), slow.hold()];
    await twoRunning.promise;
    const refused = (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED, err.message);
      assert.match(err.message, /node has 2 calls running, its limit \(maxCallsInFlight\)/);
      return true;
    };
    await assert.rejects(slow.hold(), refused);
    await assert.rejects(other.service(PrimeChecker).isPrime({ n: 97n }), refused);
    gate.resolve();
    assert.deepEqual(await Promise.all(held), ["done", "done"]);
    assert.equal((await other.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
  } finally {
    gate.resolve();
    conn.close();
    other.close();
    await node.shutdown();
  }
  const bad = await runCli(["node", "--port", "0", "--max-in-flight", "0"]);
  assert.equal(bad.code, 2, "a usage error");
  assert.match(bad.stderr, /--max-in-flight must be a positive integer/);
});

/** A fresh client's call is answered: the node serves on. */
async function assertServes(target: string): Promise<void> {
  const conn = connect(target);
  try {
    assert.equal((await conn.service(PrimeChecker).isPrime({ n: 97n })).prime, true, "the node serves on");
  } finally {
    conn.close();
  }
}

/** TCP sockets open in this process: a test's peers and, the node being in-process, the node's ends of them. */
const tcpSockets = () => process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/**
 * Connects peers that send `payloads` (one each) and then never read or send
 * again, and waits up to `ms` for the node to close its ends. They cannot see
 * the close themselves (they do not read), so the node's ends are counted.
 */
async function closedByNode(target: string, payloads: Buffer[], ms: number): Promise<void> {
  const before = tcpSockets();
  const port = Number(target.slice(target.lastIndexOf(":") + 1));
  const sockets = payloads.map((bytes) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.once("connect", () => {
      if (bytes.length > 0) socket.write(bytes);
    });
    return socket;
  });
  try {
    await within(Promise.all(sockets.map((s) => once(s, "connect"))), 10_000, "the peers to connect");
    await waitFor(
      () => tcpSockets() <= before + sockets.length,
      ms,
      () =>
        `the node to close its ends of ${sockets.length} stalled connections (${tcpSockets() - before} sockets open)`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

test("connections that never finish the HTTP/2 handshake are closed by the node", async () => {
  // The idle timeout is the default (5 minutes): only the handshake limit can close these within the test.
  const { node, target } = await startNode({ workers: 1, limits: { handshakeTimeoutMs: 300 } });
  // Silent, half a preface, a preface without settings.
  try {
    await closedByNode(target, [Buffer.alloc(0), PREFACE.subarray(0, 16), PREFACE], 10_000);
    await assertServes(target);
  } finally {
    await node.shutdown();
  }
});

test("an idle connection whose peer stopped reading is closed, not held by a graceful close", async () => {
  const { node, target } = await startNode({ workers: 1, limits: { idleConnectionMs: 200 } });
  // Through the handshake, then silent: grpc-js's idle close waits for a peer that never reads.
  try {
    await closedByNode(target, [Buffer.concat([PREFACE, EMPTY_SETTINGS])], 15_000);
  } finally {
    await node.shutdown();
  }
});

test("past maxConnections a new connection is closed on arrival; once one goes, clients get in again", async () => {
  const { node, target } = await startNode({ workers: 1, limits: { maxConnections: 2 } });
  const held = [connectHttp2(`http://${target}`), connectHttp2(`http://${target}`)];
  try {
    for (const session of held) await within(once(session, "remoteSettings"), 10_000, "a held connection");
    const third = connectHttp2(`http://${target}`);
    third.on("error", () => {});
    const outcome = await within(
      Promise.race([
        once(third, "remoteSettings").then(() => "handshake"),
        once(third, "close").then(() => "closed"),
      ]),
      10_000,
      "the third connection to be answered or closed",
    );
    assert.equal(outcome, "closed", "a third connection is closed at once");
    held[0]?.destroy();
    await once(held[0] as ReturnType<typeof connectHttp2>, "close");
    // The node notices the closed connection a few turns later; the client's own retry covers that.
    await assertServes(target);
  } finally {
    for (const session of held) session.destroy();
    await node.shutdown();
  }
});

test("a connection with no calls is closed after idleConnectionMs", async () => {
  const { node, target } = await startNode({ workers: 1, limits: { idleConnectionMs: 200 } });
  const session = connectHttp2(`http://${target}`);
  try {
    // The HTTP/2 handshake completes, then nothing is asked: the node says goodbye.
    await once(session, "remoteSettings");
    const closed = await Promise.race([
      once(session, "goaway").then(() => "goaway"),
      once(session, "close").then(() => "close"),
      new Promise((resolve) => setTimeout(() => resolve("still open after 5 s"), 5_000).unref()),
    ]);
    assert.match(String(closed), /goaway|close/);
    await assertServes(target);
  } finally {
    session.destroy();
    await node.shutdown();
  }
});
