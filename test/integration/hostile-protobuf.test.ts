/**
 * Hostile protobuf: wrong wire types, length prefixes claiming gigabytes,
 * varints too long, Values nested past maxDepth and past the decoder's limit,
 * over Invoke and in Session frames. What the node can pin on one call fails
 * that call only; the rest of the frame, the session and the node go on (see
 * test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { toRemoteError } from "../../client/remote-error.js";
import { Code, codeName } from "../../src/code.js";
import { VALUE_LIMITS } from "../../src/value-limits.js";
import { type HostileNode, startHostileNode } from "../hostile-node.js";
import {
  callBytes,
  describeOutcome,
  frameOfCalls,
  invokeBytes,
  invokeRaw,
  lenField,
  nestedValue,
  sessionRaw,
  sessionResults,
  strField,
  tag,
  V,
  varint,
  varintField,
  WIRE,
} from "../hostile-wire.js";

describe("hostile input: protobuf", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode();
  });

  after(async () => {
    await hostile?.close();
  });

  test("protobuf with wrong wire types, oversized lengths and 10,000-deep Values is refused; the node goes on", async () => {
    const { raw, goodCall, assertServing, assertSettled } = hostile;
    const two = [V.double(2), V.double(3)];
    const expectations: {
      name: string;
      bytes: Buffer;
      codes: number[];
      details?: RegExp;
      field?: RegExp;
      /** Well-formed after all: answered. */
      ok?: boolean;
    }[] = [
      {
        name: "object (a string) sent as a varint",
        bytes: Buffer.concat([varintField(1, 5), strField(2, "add"), ...two.map((a) => lenField(3, a))]),
        codes: [Code.NOT_FOUND, Code.INVALID_ARGUMENT],
        details: /no object ""/,
        field: /^object$/,
      },
      {
        name: "method sent as a fixed32",
        bytes: Buffer.concat([
          strField(1, "calc"),
          tag(2, WIRE.I32),
          Buffer.alloc(4),
          ...two.map((a) => lenField(3, a)),
        ]),
        codes: [Code.UNIMPLEMENTED, Code.INVALID_ARGUMENT],
        details: /methods: add, echo/,
        field: /^method$/,
      },
      {
        name: "an argument's double sent length-delimited",
        bytes: invokeBytes("calc", "echo", [lenField(3, Buffer.alloc(8))]),
        codes: [Code.INVALID_ARGUMENT],
        details: /args\[0\]: Value has no kind/,
        field: /^args\[0\]$/,
      },
      {
        name: "a field of wire type 7 (no such type)",
        bytes: Buffer.concat([invokeBytes("calc", "add", two), tag(15, 7), Buffer.alloc(8)]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "the object name's length prefix claiming 4 GB",
        bytes: Buffer.concat([tag(1, WIRE.LEN), varint(0xffffffff), Buffer.from("calc")]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "an argument's length prefix claiming 2 GB",
        bytes: Buffer.concat([
          strField(1, "calc"),
          strField(2, "echo"),
          lenField(3, V.double(1), 0x7fffffff),
        ]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "bytes_value claiming 100 MB inside a 10-byte argument",
        bytes: invokeBytes("calc", "echo", [lenField(7, Buffer.alloc(10), 100_000_000)]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a length prefix of -1 (a 10-byte varint)",
        bytes: Buffer.concat([tag(1, WIRE.LEN), varint(-1n), Buffer.from("calc")]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "an int64 argument as a varint of 12 bytes",
        bytes: invokeBytes("calc", "echo", [
          Buffer.concat([tag(4, WIRE.VARINT), Buffer.alloc(11, 0xff), Buffer.from([1])]),
        ]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "10,000 nested start-group tags",
        bytes: Buffer.concat([
          strField(1, "calc"),
          Buffer.concat(Array.from({ length: 10_000 }, () => tag(20, WIRE.SGROUP))),
        ]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a Value nested 10,000 lists deep",
        bytes: invokeBytes("calc", "echo", [nestedValue(10_000, "list")]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a Value nested 10,000 maps deep",
        bytes: invokeBytes("calc", "echo", [nestedValue(10_000, "map")]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a Value nested 40 lists deep (past maxDepth, within the protobuf decoder's limit)",
        bytes: invokeBytes("calc", "echo", [nestedValue(40, "list")]),
        codes: [Code.INVALID_ARGUMENT],
        details: new RegExp(`nested deeper than maxDepth \\(${VALUE_LIMITS.maxDepth}\\)`),
        field: /^args\[0\](\[0\])+$/,
      },
      {
        name: "a Value nested 32 maps deep (at maxDepth)",
        bytes: invokeBytes("calc", "echo", [nestedValue(VALUE_LIMITS.maxDepth, "map")]),
        codes: [],
        ok: true,
      },
      {
        name: "257 arguments",
        bytes: invokeBytes(
          "calc",
          "echo",
          Array.from({ length: 257 }, () => V.bool(true)),
        ),
        codes: [Code.INVALID_ARGUMENT],
        details: /at most 256 arguments/,
        field: /^args$/,
      },
      {
        name: "an object reference over Invoke",
        bytes: invokeBytes("calc", "echo", [
          lenField(10, Buffer.concat([strField(1, "r1"), varintField(2, 1)])),
        ]),
        codes: [Code.INVALID_ARGUMENT],
        details: /references only travel over a session/,
        field: /^args\[0\]$/,
      },
    ];
    for (const e of expectations) {
      const outcome = await invokeRaw(raw, e.bytes, 5_000);
      if (e.ok) {
        assert.ok(outcome.ok, `${e.name}: expected an answer, got ${describeOutcome(outcome)}`);
        continue;
      }
      assert.ok(!outcome.ok, `${e.name}: expected an error, got ${describeOutcome(outcome)}`);
      const err = toRemoteError(outcome.error);
      assert.ok(
        e.codes.includes(err.code),
        `${e.name}: expected ${e.codes.map((c) => codeName(c)).join(" or ")}, got ${describeOutcome(outcome)}`,
      );
      if (e.details) assert.match(err.details, e.details, e.name);
      if (e.field) assert.match(err.field ?? "(no field)", e.field, `${e.name}: the field at fault`);
    }
    await goodCall("after malformed Invoke requests");

    // The same through Session frames: a frame the decoder cannot read ends that session only.
    const wholeFrame: { name: string; frame: Buffer; codes: number[]; details?: RegExp }[] = [
      {
        name: "a Value nested 10,000 lists deep",
        frame: frameOfCalls(callBytes(1, "calc", "echo", [nestedValue(10_000, "list")])),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a Value nested 10,000 maps deep",
        frame: frameOfCalls(callBytes(1, "calc", "echo", [nestedValue(10_000, "map")])),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a ClientMessage whose length prefix claims 4 GB",
        frame: Buffer.concat([tag(1, WIRE.LEN), varint(0xffffffff), callBytes(1, "calc", "add", two)]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a Call cut off in the middle",
        frame: frameOfCalls(callBytes(1, "calc", "add", two)).subarray(0, 12),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a field of wire type 6",
        frame: Buffer.concat([frameOfCalls(callBytes(1, "calc", "add", two)), tag(3, 6)]),
        codes: [Code.INTERNAL, Code.INVALID_ARGUMENT],
      },
      {
        name: "a ClientMessage of no kind this node knows (field 9)",
        frame: lenField(1, strField(9, "from the future")),
        codes: [Code.INVALID_ARGUMENT],
        details: /no known kind/,
      },
    ];
    for (const e of wholeFrame) {
      const { status } = await sessionRaw(raw, [e.frame], 5_000);
      assert.ok(
        e.codes.includes(status.code),
        `Session, ${e.name}: expected ${e.codes.map((c) => codeName(c)).join(" or ")}, got ${codeName(status.code)}: ${status.details}`,
      );
      if (e.details) assert.match(status.details, e.details, e.name);
    }

    // Faults the node can pin on one call fail that call only; the rest of the frame is answered.
    const refTo = (id: string, owner: number) =>
      lenField(10, Buffer.concat([strField(1, id), varintField(2, owner)]));
    const batchOfMany = lenField(
      5,
      Buffer.concat([
        varintField(1, 8),
        strField(2, "calc"),
        strField(4, "add"),
        Buffer.concat(Array.from({ length: 10_001 }, () => lenField(5, Buffer.alloc(0)))),
      ]),
    );
    const frame = Buffer.concat([
      frameOfCalls(
        callBytes(1, "calc", "echo", [nestedValue(40, "list")]),
        callBytes(2, "calc", "echo", [nestedValue(VALUE_LIMITS.maxDepth, "map")]),
        Buffer.concat([varintField(1, 3), strField(4, "add"), ...two.map((a) => lenField(5, a))]), // no target
        callBytes(4, "calc", "echo", [refTo("x", 0)]),
        callBytes(5, "calc", "echo", [refTo("__proto__", 1)]),
        callBytes(6, "calc", "echo", [lenField(3, Buffer.alloc(8))]),
        callBytes(7, "calc", "add", two),
      ),
      lenField(1, batchOfMany),
      // A batch whose second and third entries carry bad values: only those entries fail, each named.
      lenField(
        1,
        lenField(
          5,
          Buffer.concat([
            varintField(1, 9),
            strField(2, "calc"),
            strField(4, "add"),
            lenField(5, Buffer.concat(two.map((a) => lenField(1, a)))),
            lenField(5, Buffer.concat([lenField(1, V.double(1)), lenField(1, Buffer.alloc(0))])),
            lenField(5, lenField(1, nestedValue(40, "list"))),
          ]),
        ),
      ),
    ]);
    const { status, responses } = await sessionRaw(raw, [frame], 10_000);
    assert.equal(
      status.code,
      Code.OK,
      `the session should end normally, got ${codeName(status.code)}: ${status.details}`,
    );
    const messages = sessionResults(responses);
    const result = (id: number) => messages.find((m) => m.result?.id === BigInt(id))?.result;
    const perCall: [number, number, RegExp][] = [
      [1, Code.INVALID_ARGUMENT, /args\[0\](\[0\])+: nested deeper than maxDepth/],
      [3, Code.INVALID_ARGUMENT, /names neither an object nor a ref_id/],
      [4, Code.INVALID_ARGUMENT, /ref x has no owner/],
      [5, Code.NOT_FOUND, /__proto__ was released or never existed/],
      [6, Code.INVALID_ARGUMENT, /args\[0\]: Value has no kind/],
    ];
    for (const [id, code, details] of perCall) {
      const r = result(id);
      assert.ok(
        r?.error,
        `call ${id} should fail on its own, got ${JSON.stringify(r, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`,
      );
      assert.equal(codeName(r.error.code), codeName(code), `call ${id}: ${r.error.message}`);
      assert.match(r.error.message, details, `call ${id}`);
    }
    assert.ok(
      result(2)?.value?.mapValue,
      `a map ${VALUE_LIMITS.maxDepth} deep is answered: ${result(2)?.error?.message}`,
    );
    assert.equal(result(7)?.value?.doubleValue, 5, "the well-formed call in the same frame is answered");
    const batch = messages.find((m) => m.batchResult?.id === 8n)?.batchResult;
    assert.equal(batch?.error?.code, Code.INVALID_ARGUMENT, "a batch of 10,001 entries is refused");
    assert.match(batch?.error?.message ?? "", /at most 10000 entries/);
    const mixed = messages.find((m) => m.batchResult?.id === 9n)?.batchResult;
    assert.equal(mixed?.outcomes.length, 3, "every entry of the mixed batch is answered");
    assert.equal(mixed?.outcomes[0]?.value?.doubleValue, 5, "the good entry is answered");
    assert.match(mixed?.outcomes[1]?.error?.message ?? "", /^calls\[1\]\.args\[1\]: Value has no kind/);
    assert.match(
      mixed?.outcomes[2]?.error?.message ?? "",
      /^calls\[2\]\.args\[0\](\[0\])+: nested deeper than maxDepth/,
    );

    await assertServing("after malformed protobuf");
    await assertSettled("after malformed protobuf");
  });

  test("a map nested past maxDepth fails only its own call, as a list does; past the decoder's limit, only its request", async () => {
    const { raw, assertServing } = hostile;
    // One level past the codec's limit: the node can name the field and the limit.
    const depth = VALUE_LIMITS.maxDepth + 1;
    for (const kind of ["list", "map"] as const) {
      const outcome = await invokeRaw(raw, invokeBytes("calc", "echo", [nestedValue(depth, kind)]), 5_000);
      assert.ok(!outcome.ok, `Invoke, ${kind}s ${depth} deep: answered`);
      assert.equal(
        codeName(outcome.error.code),
        "INVALID_ARGUMENT",
        `Invoke, ${kind}s ${depth} deep: ${describeOutcome(outcome)}`,
      );
      assert.match(
        outcome.error.details,
        new RegExp(`nested deeper than maxDepth \\(${VALUE_LIMITS.maxDepth}\\)`),
        `Invoke, ${kind}s ${depth} deep`,
      );
      assert.match(toRemoteError(outcome.error).field ?? "", /^args\[0\]/, `Invoke, ${kind}s ${depth} deep`);
    }
    // In a session the other calls of the frame, and the session, go on.
    const { status, responses } = await sessionRaw(
      raw,
      [
        frameOfCalls(
          callBytes(1, "calc", "echo", [nestedValue(depth, "list")]),
          callBytes(2, "calc", "echo", [nestedValue(depth, "map")]),
          callBytes(3, "calc", "add", [V.double(2), V.double(3)]),
        ),
      ],
      5_000,
    );
    assert.equal(status.code, Code.OK, `the session broke: ${codeName(status.code)}: ${status.details}`);
    const messages = sessionResults(responses);
    for (const id of [1n, 2n]) {
      const r = messages.find((m) => m.result?.id === id)?.result;
      assert.equal(r?.error?.code, Code.INVALID_ARGUMENT, `call ${id}: ${r?.error?.message ?? "no error"}`);
      assert.match(r?.error?.message ?? "", /nested deeper than maxDepth/);
    }
    assert.equal(messages.find((m) => m.result?.id === 3n)?.result?.value?.doubleValue, 5);
    await assertServing("after values past maxDepth");
    // Deeper than the protobuf decoder goes (100 nested messages): the request as a whole is refused.
    const tooDeep = await invokeRaw(raw, invokeBytes("calc", "echo", [nestedValue(40, "map")]), 5_000);
    assert.ok(!tooDeep.ok, "a map 40 deep was answered");
    assert.match(codeName(tooDeep.error.code), /INTERNAL|INVALID_ARGUMENT/, describeOutcome(tooDeep));
    await assertServing("after a value past the decoder's limit");
  });
});
