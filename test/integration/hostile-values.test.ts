/**
 * Property tests of the Value codec, with no node: every supported value
 * round-trips through the wire; decoding any Value, or any bytes the protobuf
 * decoder takes, gives plain data (no other prototype, Object.prototype left
 * alone) or the codec's own error with a field path; toValue of anything
 * refuses it with a field path or gives a Value that goes on the wire.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ObjectHost } from "../../server/object-host.js";
import { SessionRefs } from "../../server/session-refs.js";
import { Code, codeName } from "../../src/code.js";
import { Value } from "../../src/gen/ferry/v1/value.js";
import { ServerError } from "../../src/server-error.js";
import { fromValue, toValue } from "../../src/value-codec.js";
import { PROTOTYPE_NAMES } from "../hostile-node.js";

describe("hostile input: the Value codec", { timeout: 120_000 }, () => {
  test("property: the Value codec round-trips every supported value through the wire", () => {
    const key = fc.oneof(
      fc.string({ unit: "binary", maxLength: 8 }),
      fc.constantFrom("__proto__", "constructor", "toString", "prototype", ""),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
        fc.string({ unit: "binary", maxLength: 20 }),
        fc.uint8Array({ maxLength: 16 }),
        tie("list"),
        tie("map"),
      ),
      list: fc.array(tie("value"), { maxLength: 5 }),
      map: fc.dictionary(key, tie("value"), { maxKeys: 5, noNullPrototype: true }),
    }));
    fc.assert(
      fc.property(fc.oneof(value, fc.jsonValue({ maxDepth: 6 })), (v) => {
        const bytes = Value.encode(toValue(v, "v")).finish();
        assert.deepStrictEqual(fromValue(Value.decode(bytes), "v"), v);
      }),
      { numRuns: 300 },
    );
  });

  test("property: decoding any Value gives plain data or the codec's own error with a field path", () => {
    const key = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom("__proto__", "constructor", "prototype"),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.record({ nullValue: fc.integer() }),
        fc.record({ boolValue: fc.boolean() }),
        fc.record({ doubleValue: fc.double() }),
        fc.record({ int64Value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
        fc.record({ uint64Value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
        fc.record({ stringValue: fc.string({ maxLength: 10 }) }),
        fc.record({ bytesValue: fc.uint8Array({ maxLength: 10 }) }),
        fc.record({
          ref: fc.record({
            id: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("r1", "__proto__")),
            owner: fc.integer({ min: -1, max: 4 }),
            methods: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...PROTOTYPE_NAMES)), {
              maxLength: 3,
            }),
          }),
        }),
        fc.constant({} as Value), // no kind
        fc.record({ listValue: fc.record({ values: fc.array(tie("value"), { maxLength: 4 }) }) }),
        fc.record({
          mapValue: fc.record({
            entries: fc.array(fc.record({ key, value: fc.option(tie("value"), { nil: undefined }) }), {
              maxLength: 4,
            }),
          }),
        }),
      ) as fc.Arbitrary<Value>,
    }));
    /** The same value at the bottom of `depth` lists or maps: deep enough to pass maxDepth sometimes. */
    const deep = fc
      .tuple(fc.integer({ min: 1, max: 45 }), fc.boolean(), value)
      .map(([depth, asMap, leaf]) => {
        let v: Value = leaf;
        for (let i = 0; i < depth; i++) {
          v = asMap ? { mapValue: { entries: [{ key: "k", value: v }] } } : { listValue: { values: [v] } };
        }
        return v;
      });
    /** Decoded data: arrays, plain objects (prototype Object.prototype), primitives, bytes, functions, stand-ins. */
    const assertPlain = (decoded: unknown, path: string): void => {
      if (decoded === null || typeof decoded !== "object") return;
      if (decoded instanceof Uint8Array) return;
      if (Array.isArray(decoded)) {
        for (const [i, item] of decoded.entries()) assertPlain(item, `${path}[${i}]`);
        return;
      }
      const proto = Object.getPrototypeOf(decoded);
      if (proto === null) {
        assert.ok(
          Object.isFrozen(decoded),
          `${path}: a null-prototype object that is not a frozen callback stand-in`,
        );
        return;
      }
      assert.equal(proto, Object.prototype, `${path}: decoded a map with another prototype`);
      for (const k of Object.keys(decoded))
        assertPlain((decoded as Record<string, unknown>)[k], `${path}.${k}`);
    };
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).join();
    const check = (v: Value | undefined, withRefs: boolean) => {
      const refs = withRefs ? new SessionRefs(new ObjectHost(), () => {}, 100) : undefined;
      try {
        assertPlain(fromValue(v, "args[0]", refs), "args[0]");
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(
          err instanceof ServerError,
          `decoding threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}, not a ServerError`,
        );
        assert.ok(
          err.code === Code.INVALID_ARGUMENT || err.code === Code.NOT_FOUND,
          `unexpected code ${codeName(err.code)}: ${err.message}`,
        );
        assert.ok(err.field, `the error names no field: ${err.message}`);
      }
      assert.equal(
        Object.getOwnPropertyNames(Object.prototype).join(),
        protoKeys,
        "Object.prototype was changed",
      );
    };
    fc.assert(
      fc.property(fc.oneof(value, deep), fc.boolean(), (v, withRefs) => {
        check(v, withRefs);
        // The same after a trip through the wire, when the protobuf decoder takes it (it stops at 100 levels).
        let wire: Value | undefined;
        try {
          wire = Value.decode(Value.encode(v).finish());
        } catch {
          return;
        }
        check(wire, withRefs);
      }),
      { numRuns: 300 },
    );
    // Bytes off the wire: whatever the protobuf decoder accepts, the codec answers cleanly.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, withRefs) => {
        let v: Value;
        try {
          v = Value.decode(bytes);
        } catch {
          return; // the protobuf decoder's refusal (the node answers it with an error status)
        }
        check(v, withRefs);
      }),
      { numRuns: 300 },
    );
  });

  test("property: toValue of anything refuses it with a field path or gives a Value that goes on the wire", () => {
    fc.assert(
      fc.property(
        fc.anything({
          maxDepth: 3,
          maxKeys: 4,
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
        (v) => {
          let encoded: Value;
          try {
            encoded = toValue(v, "result");
          } catch (err) {
            assert.ok(
              err instanceof ServerError,
              `toValue threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`,
            );
            assert.ok(err.field?.startsWith("result"), `no field path in: ${err.message}`);
            return;
          }
          let bytes: Uint8Array;
          try {
            bytes = Value.encode(encoded).finish();
          } catch (err) {
            assert.fail(`toValue accepted a value whose Value cannot be encoded: ${(err as Error).message}`);
          }
          fromValue(Value.decode(bytes), "result");
        },
      ),
      { numRuns: 300 },
    );
  });
});
