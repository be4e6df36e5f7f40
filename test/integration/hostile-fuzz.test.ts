/**
 * Property tests of the wire: arbitrary and mutated bytes as an Invoke
 * request or a Session frame get an answer, never a hang or a lost
 * connection, and the node still serves its good client (see
 * test/hostile-node.ts). The node exposes the prototype traps too, since one
 * of the requests mutated here calls "trap": no mutation may reach a member
 * it does not expose.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { Code, codeName } from "../../src/code.js";
import { InvokeRequest, SessionRequest } from "../../src/gen/ferry/v1/objects.js";
import type { Value } from "../../src/gen/ferry/v1/value.js";
import { type HostileNode, prototypeTraps, startHostileNode } from "../hostile-node.js";
import {
  callBytes,
  describeOutcome,
  frameOfCalls,
  invokeBytes,
  invokeRaw,
  nestedValue,
  sessionRaw,
  V,
} from "../hostile-wire.js";

describe("hostile input: arbitrary bytes", { timeout: 120_000 }, () => {
  let hostile: HostileNode;
  const traps = prototypeTraps();

  before(async () => {
    hostile = await startHostileNode(traps.expose);
  });

  after(async () => {
    await hostile?.close();
  });

  test("property: arbitrary bytes as an Invoke request or a Session frame get an answer, never a hang or a crash", async () => {
    const { raw, goodCall, assertServing, assertSettled } = hostile;
    const rich: Value = {
      mapValue: {
        entries: [
          { key: "list", value: { listValue: { values: [{ doubleValue: 1.5 }, { stringValue: "é" }] } } },
          { key: "__proto__", value: { int64Value: -(2n ** 63n) } },
          { key: "big", value: { uint64Value: 2n ** 64n - 1n } },
          { key: "bytes", value: { bytesValue: Buffer.from([0, 1, 2, 255]) } },
          { key: "null", value: { nullValue: 0 } },
        ],
      },
    };
    const invokeBases = [
      invokeBytes("calc", "add", [V.double(2), V.double(3)]),
      Buffer.from(
        InvokeRequest.encode({ object: "calc", method: "echo", args: [rich, { boolValue: true }] }).finish(),
      ),
      invokeBytes("calc", "echo", [nestedValue(30, "list")]),
      invokeBytes("trap", "add", [V.double(1), V.double(1)]),
    ];
    const frameBases = [
      frameOfCalls(callBytes(1, "calc", "add", [V.double(2), V.double(3)])),
      Buffer.from(
        SessionRequest.encode(
          SessionRequest.fromPartial({
            messages: [
              { call: { id: 1n, object: "calc", method: "echo", args: [rich], timeoutMs: 2_000 } },
              { call: { id: 2n, refId: "r1", method: "add", args: [] } },
              { cancel: { id: 1n } },
              { release: { refIds: ["r1", "__proto__"] } },
              { callbackResult: { id: 1n, value: { stringValue: "x" } } },
              {
                batch: {
                  id: 3n,
                  object: "calc",
                  method: "add",
                  calls: [{ args: [{ doubleValue: 1 }, { doubleValue: 2 }] }],
                },
              },
            ],
          }),
        ).finish(),
      ),
    ];
    const mutated = (bases: Buffer[]) =>
      fc
        .record({
          base: fc.constantFrom(...bases),
          edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
            maxLength: 6,
          }),
          insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 })), { nil: undefined }),
          cut: fc.option(fc.nat(), { nil: undefined }),
        })
        .map(({ base, edits, insert, cut }) => {
          let b = Buffer.from(base);
          for (const { at, byte } of edits) if (b.length > 0) b[at % b.length] = byte;
          if (insert) {
            const at = insert[0] % (b.length + 1);
            b = Buffer.concat([b.subarray(0, at), insert[1], b.subarray(at)]);
          }
          if (cut !== undefined && b.length > 0) b = b.subarray(0, cut % b.length);
          return new Uint8Array(b);
        });
    const bytesOf = (bases: Buffer[]) => fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(bases));
    const HANG = [Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE];
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").slice(0, 400);

    // Every run is counted: fast-check's time limit would end a slow run early and pass it,
    // so the property runs its whole count and the test checks that it did.
    let invokes = 0;
    await fc.assert(
      fc.asyncProperty(bytesOf(invokeBases), async (bytes) => {
        invokes++;
        const outcome = await invokeRaw(raw, Buffer.from(bytes), 5_000);
        if (!outcome.ok) {
          assert.ok(
            !HANG.includes(outcome.error.code),
            `Invoke of ${hex(bytes)}: ${describeOutcome(outcome)} (a hang or a lost connection)`,
          );
        }
      }),
      { numRuns: 300 },
    );
    assert.equal(invokes, 300, "every arbitrary Invoke request was sent");
    await goodCall("after 300 arbitrary Invoke requests");

    let frames = 0;
    await fc.assert(
      fc.asyncProperty(bytesOf(frameBases), async (bytes) => {
        frames++;
        const { status } = await sessionRaw(raw, [Buffer.from(bytes)], 5_000);
        assert.ok(
          !HANG.includes(status.code),
          `Session frame ${hex(bytes)}: ${codeName(status.code)}: ${status.details} (a hang or a lost connection)`,
        );
      }),
      { numRuns: 300 },
    );
    assert.equal(frames, 300, "every arbitrary Session frame was sent");
    await assertServing("after 300 arbitrary Session frames");
    await assertSettled("after arbitrary bytes");
    // Mutated names may spell a prototype member of "trap"; none of them ever runs.
    assert.deepEqual(traps.ran, [], "a prototype member of an exposed object ran");
  });
});
