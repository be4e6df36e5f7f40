/**
 * Hostile gRPC framing over valid HTTP/2: length prefixes past the limit,
 * compressed flags and encodings that lie, a gzip bomb, bodies cut short,
 * bad timeouts, unknown methods and content types. Each gets an error status
 * or a reset, and the node still serves its good client (see
 * test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import type http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Code, codeName } from "../../src/code.js";
import { InvokeRequest, InvokeResponse } from "../../src/gen/ferry/v1/objects.js";
import { type HostileNode, MIB, startHostileNode } from "../hostile-node.js";
import { grpcMessage, h2Request } from "../hostile-wire.js";

describe("hostile input: gRPC framing", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode();
  });

  after(async () => {
    await hostile?.close();
  });

  test("valid HTTP/2 with invalid gRPC framing gets an error status or a reset, never a crash", async () => {
    const { target, goodCall, assertServing, assertSettled } = hostile;
    const origin = `http://${target}`;
    const add = Buffer.from(
      InvokeRequest.encode({
        object: "calc",
        method: "add",
        args: [{ doubleValue: 2 }, { doubleValue: 3 }],
      }).finish(),
    );
    const session = { ":path": "/ferry.v1.Objects/Session" };
    const ANY_ERROR = undefined;
    const cases: {
      name: string;
      headers?: http2.OutgoingHttpHeaders;
      body: Buffer;
      keepOpen?: boolean;
      /** Acceptable grpc-status codes; undefined: any error. */
      codes?: number[];
      /** The node may read the message as uncompressed (grpc-js does): then the answer must be right. */
      lenient?: boolean;
    }[] = [
      {
        name: "a length prefix claiming 4 GB",
        body: grpcMessage(add, { length: 0xffffffff }),
        codes: [Code.RESOURCE_EXHAUSTED],
      },
      {
        name: "a length prefix claiming 4 GB on a Session",
        headers: session,
        body: grpcMessage(add, { length: 0xffffffff }),
        codes: [Code.RESOURCE_EXHAUSTED],
      },
      {
        name: "a length prefix of 4 MiB + 1, past the node's limit",
        body: grpcMessage(add, { length: 4 * MIB + 1 }),
        codes: [Code.RESOURCE_EXHAUSTED],
      },
      {
        name: "the compressed flag without grpc-encoding",
        body: grpcMessage(add, { flag: 1 }),
        lenient: true,
      },
      { name: "a compressed flag of 7", body: grpcMessage(add, { flag: 7 }), lenient: true },
      {
        name: "grpc-encoding gzip over bytes that are not gzip",
        headers: { "grpc-encoding": "gzip" },
        body: grpcMessage(add, { flag: 1 }),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "an encoding the node does not know",
        headers: { "grpc-encoding": "br" },
        body: grpcMessage(add, { flag: 1 }),
        codes: [Code.UNIMPLEMENTED, Code.INTERNAL],
      },
      {
        name: "a gzip bomb (16 MiB of zeros in 16 KB)",
        headers: { "grpc-encoding": "gzip" },
        body: grpcMessage(await promisify(gzip)(Buffer.alloc(16 * MIB)), { flag: 1 }),
        codes: [Code.RESOURCE_EXHAUSTED],
      },
      {
        name: "a body cut short, then END_STREAM",
        body: grpcMessage(add, { length: add.length + 100 }),
        codes: ANY_ERROR,
      },
      {
        name: "a body cut short and left open, with a 300 ms grpc-timeout",
        headers: { "grpc-timeout": "300m" },
        body: grpcMessage(add, { length: add.length + 100 }),
        keepOpen: true,
        codes: [Code.DEADLINE_EXCEEDED],
      },
      { name: "3 bytes of the 5-byte prefix", body: Buffer.from([0, 0, 0]), codes: ANY_ERROR },
      { name: "no message at all", body: Buffer.alloc(0), codes: ANY_ERROR },
      {
        name: "two messages for a unary method",
        body: Buffer.concat([grpcMessage(add), grpcMessage(add)]),
        codes: ANY_ERROR,
      },
      {
        name: "a grpc-timeout that is not a duration",
        headers: { "grpc-timeout": "soon" },
        body: grpcMessage(add),
        codes: ANY_ERROR,
      },
      {
        name: "a method the node does not have",
        headers: { ":path": "/ferry.v1.Objects/Nope" },
        body: grpcMessage(add),
        codes: [Code.UNIMPLEMENTED],
      },
      {
        name: "content-type application/json",
        headers: { "content-type": "application/json" },
        body: grpcMessage(add),
      },
      { name: "content-type text/html", headers: { "content-type": "text/html" }, body: grpcMessage(add) },
      { name: "no content-type", headers: { "content-type": undefined }, body: grpcMessage(add) },
    ];
    for (const c of cases) {
      const o = await h2Request(origin, {
        headers: c.headers,
        body: c.body,
        keepOpen: c.keepOpen,
        waitMs: 5_000,
      });
      const summary = `${c.name}: HTTP ${o.status}, grpc-status ${o.grpcStatus} (${o.grpcMessage}), rst ${o.rstCode}, error ${o.error}`;
      assert.ok(!o.timedOut, `no answer within 5 s to ${summary}`);
      if (c.lenient && o.grpcStatus === Code.OK) {
        // Read as an uncompressed message: tolerable only with the right answer.
        assert.equal(
          o.data,
          5 + InvokeResponse.encode({ result: { doubleValue: 5 } }).finish().length,
          summary,
        );
        continue;
      }
      const refused =
        (o.grpcStatus !== undefined && o.grpcStatus !== Code.OK) ||
        (o.status !== undefined && o.status !== 200) ||
        (o.rstCode ?? 0) !== 0 ||
        o.error !== undefined;
      assert.ok(refused, `expected an error status or a reset for ${summary}`);
      if (c.codes && o.grpcStatus !== undefined) {
        assert.ok(
          c.codes.includes(o.grpcStatus),
          `${summary}: expected ${c.codes.map((x) => codeName(x)).join(" or ")}`,
        );
      }
      await goodCall(`after ${c.name}`);
    }
    await assertServing("after invalid gRPC framing");
    await assertSettled("after invalid gRPC framing");
  });
});
