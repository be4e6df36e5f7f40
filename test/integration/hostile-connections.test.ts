/**
 * Hostile connections: bytes that are not HTTP/2 (random, zeros, HTTP/1.1,
 * TLS), a good preface followed by a connection error, 200 connections that
 * never finish their handshake, and 50 slow-loris streams. After each the
 * node must still serve its good client (see test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { connect } from "../../client/connect.js";
import { within } from "../helpers.js";
import { type Calculator, type HostileNode, MIB, startHostileNode } from "../hostile-node.js";
import { sleep, waitFor } from "../hostile-wire.js";

/** The error code of the first GOAWAY among the HTTP/2 frames the node sent, if any. */
function goawayIn(bytes: Buffer): number | undefined {
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === 0x7 && at + 9 + 8 <= bytes.length) return bytes.readUInt32BE(at + 9 + 4);
    at += 9 + length;
  }
  return undefined;
}

describe("hostile input: connections", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode();
  });

  after(async () => {
    await hostile?.close();
  });

  test("garbage bytes and 200 half-open connections on the port: the node drops them and keeps serving", async () => {
    const { target, port, goodCall, assertServing, assertSettled } = hostile;
    const clientHello = Buffer.concat([
      Buffer.from("16030102000100" + "01fc0303", "hex"), // TLS record, ClientHello, TLS 1.2 version
      randomBytes(32), // random
      Buffer.from([0x20]),
      randomBytes(32), // session id
      Buffer.from("003e130213031301c02cc030", "hex"), // cipher suites…
    ]);
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    const emptySettings = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    // Bytes that are not HTTP/2 at all: the node must drop the connection.
    const notHttp2: [string, Buffer][] = [
      ["4 KB of random bytes", randomBytes(4096)],
      ["64 KB of zero bytes", Buffer.alloc(64 * 1024)],
      ["an HTTP/1.1 GET", Buffer.from(`GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`)],
      [
        "an HTTP/1.1 gRPC-looking POST",
        Buffer.from(
          "POST /ferry.v1.Objects/Invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0",
        ),
      ],
      ["a TLS ClientHello", clientHello],
    ];
    // A good preface, then a connection error: the node must answer with a GOAWAY.
    const brokenHttp2: [string, Buffer][] = [
      [
        "the HTTP/2 preface then a SETTINGS frame of 7 bytes",
        Buffer.concat([preface, Buffer.from([0, 0, 7, 0x4, 0, 0, 0, 0, 0]), randomBytes(7)]),
      ],
      [
        "the HTTP/2 preface then DATA on stream 0",
        Buffer.concat([
          preface,
          emptySettings,
          Buffer.from([0, 0, 4, 0, 0, 0, 0, 0, 0]),
          Buffer.from("abcd"),
        ]),
      ],
      [
        "the HTTP/2 preface then a 16 MB frame header",
        Buffer.concat([preface, emptySettings, Buffer.from([0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1])]),
      ],
    ];
    for (const [name, bytes] of [...notHttp2, ...brokenHttp2]) {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => {}); // a reset is a fine way to refuse
      let received = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
      });
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      try {
        await within(
          new Promise<void>((resolve) => socket.once("connect", () => resolve())),
          5_000,
          `a TCP connection for ${name}`,
        );
        socket.write(bytes);
        if (notHttp2.some(([n]) => n === name)) {
          await within(closed, 5_000, `the node to close a connection that sent ${name}`);
        } else {
          // RFC 9113 5.4.1 asks the node to close the connection after this GOAWAY; it does not (see
          // the report), so only the GOAWAY is required here.
          await waitFor(
            () => goawayIn(received) !== undefined,
            5_000,
            () => `a GOAWAY in answer to ${name} (got ${received.toString("hex").slice(0, 80)})`,
          );
          assert.notEqual(goawayIn(received), 0, `${name}: the GOAWAY names no error`);
        }
      } finally {
        socket.destroy();
      }
      await goodCall(`after ${name}`);
    }

    // 200 connections that never finish their handshake: 100 silent, 100 stopping half-way through the preface.
    const sockets: net.Socket[] = [];
    const closings: Promise<void>[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => {});
        closings.push(new Promise((resolve) => socket.on("close", () => resolve())));
        sockets.push(socket);
      }
      await within(
        Promise.all(
          sockets.map(
            (s) =>
              new Promise<void>((resolve, reject) => {
                s.once("connect", () => resolve());
                s.once("error", reject);
              }),
          ),
        ),
        10_000,
        "200 TCP connections to open",
      );
      sockets.forEach((s, i) => {
        if (i % 2 === 1) s.write("PRI * HTTP/2.0\r\n");
      });
      await within(
        Promise.all(Array.from({ length: 20 }, (_, i) => goodCall(`while 200 connections hang (${i})`))),
        20_000,
        "20 calls of the good client while 200 connections hang",
      );
      await assertServing("while 200 half-open connections are held");
      // A new client still gets in.
      const late = connect(target, { defaultTimeoutMs: 10_000, maxMessageBytes: 4 * MIB + 2 });
      try {
        assert.equal(
          await late.proxy<Calculator>("calc").add(1, 1),
          2,
          "a client connecting during the flood",
        );
      } finally {
        late.close();
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
    await within(Promise.all(closings), 5_000, "the 200 half-open sockets to close");
    await assertServing("after the half-open connections were dropped");
    await assertSettled("after garbage on the port");
  });

  test("slow-loris: 50 connections trickling a request body do not slow the good client down", async () => {
    const { target, goodCall, assertServing, assertSettled } = hostile;
    const sessions: http2.ClientHttp2Session[] = [];
    const streams: http2.ClientHttp2Stream[] = [];
    const answered: string[] = [];
    const closings: Promise<void>[] = [];
    let ticker: NodeJS.Timeout | undefined;
    try {
      for (let i = 0; i < 50; i++) {
        const session = http2.connect(`http://${target}`);
        session.on("error", () => {});
        closings.push(new Promise((resolve) => session.on("close", () => resolve())));
        sessions.push(session);
        const stream = session.request({
          ":method": "POST",
          ":path": i % 2 === 0 ? "/ferry.v1.Objects/Invoke" : "/ferry.v1.Objects/Session",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("error", () => {});
        stream.on("response", (h) => {
          if (h["grpc-status"] !== undefined && h["grpc-status"] !== "0") return;
          answered.push(`stream ${i}: ${JSON.stringify(h)}`);
        });
        stream.write(Buffer.from([0, 0, 0, 0, 64])); // a 64-byte message is coming…
        streams.push(stream);
      }
      await within(
        Promise.all(
          sessions.map((s) =>
            s.connecting ? new Promise<void>((resolve) => s.once("connect", () => resolve())) : undefined,
          ),
        ),
        10_000,
        "50 HTTP/2 connections",
      );
      ticker = setInterval(() => {
        for (const s of streams) if (!s.destroyed) s.write(Buffer.from([0x0a]));
      }, 1_000);
      const until = Date.now() + 3_200;
      let calls = 0;
      while (Date.now() < until) {
        await goodCall(`during the slow-loris (${calls})`);
        calls++;
        await sleep(50);
      }
      assert.ok(calls >= 5, `only ${calls} good calls in 3 s`);
      await assertServing("during the slow-loris");
      assert.deepEqual(answered, [], "a trickled request was answered as if complete");
    } finally {
      clearInterval(ticker);
      for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);
      for (const s of sessions) s.destroy();
    }
    await within(Promise.all(closings), 5_000, "the 50 slow connections to close");
    await assertServing("after the slow-loris");
    await assertSettled("after the slow-loris");
  });
});
