import assert from "node:assert/strict";
import { test } from "node:test";
import { Value } from "../../src/gen/ferry/v1/value.js";
import { ServerError } from "../../src/server-error.js";
import { fromValue, toValue } from "../../src/value-codec.js";

/** Encodes, goes through the wire bytes, and decodes. */
function roundTrip(value: unknown): unknown {
  const bytes = Value.encode(toValue(value, "arg")).finish();
  return fromValue(Value.decode(bytes), "arg");
}

test("plain data round-trips exactly, 64-bit integers included", () => {
  const data = {
    nothing: null,
    yes: true,
    ratio: 0.375,
    nan: Number.NaN,
    big: 2n ** 64n - 1n,
    small: -(2n ** 63n),
    text: "ferry ⛴",
    bytes: new Uint8Array([0, 1, 255]),
    list: [1, "two", [3n]],
    nested: { a: { b: { c: [] } } },
  };
  assert.deepEqual(roundTrip(data), data);
  assert.equal(roundTrip(undefined), null);
  assert.deepEqual(roundTrip(new Map([["k", 1]])), { k: 1 });
});

test("a key named __proto__ stays an own property and never sets a prototype", () => {
  const hostile = Value.fromPartial({
    mapValue: {
      entries: [
        {
          key: "__proto__",
          value: { mapValue: { entries: [{ key: "polluted", value: { boolValue: true } }] } },
        },
      ],
    },
  });
  const decoded = fromValue(hostile, "arg") as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.keys(decoded), ["__proto__"]);
  assert.equal((decoded as { polluted?: boolean }).polluted, undefined);
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
});

test("what cannot travel is refused with its path", () => {
  const refused = (value: unknown, pattern: RegExp) =>
    assert.throws(
      () => toValue(value, "args[0]"),
      (err: unknown) => err instanceof ServerError && pattern.test(err.message),
    );
  refused(Symbol("x"), /args\[0\]: symbols cannot be sent/);
  refused({ f: () => 1 }, /args\[0\]\.f: functions can only be sent as callbacks/);
  refused(new Date(), /args\[0\]: a Date cannot be sent by value/);
  refused(2n ** 64n, /does not fit in 64 bits/);
  refused(new Map([[1, 2]]), /only Maps with string keys/);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  refused(cyclic, /args\[0\]\[0\]: cyclic value/);
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  refused(deep, /nested deeper than maxDepth \(30\)/);
});

test("a refused part is named by its whole path, written only when something is refused", () => {
  let asked = 0;
  const path = () => {
    asked++;
    return "calls[7]";
  };
  const value = { a: [1, { b: [true, Symbol("s")] }] };
  assert.throws(
    () => toValue(value, path),
    (err: unknown) =>
      err instanceof ServerError &&
      err.message === "calls[7].a[1].b[1]: symbols cannot be sent" &&
      err.field === "calls[7].a[1].b[1]",
  );
  assert.equal(asked, 1);
  assert.deepEqual(fromValue(toValue({ a: [1, 2n, "x"] }, path), path), { a: [1, 2n, "x"] });
  assert.equal(asked, 1, "values that travel never build their path");
  const received: Value = {
    mapValue: { entries: [{ key: "list", value: { listValue: { values: [{ boolValue: true }, {}] } } }] },
  };
  assert.throws(() => fromValue(received, path), /calls\[7\]\.list\[1\]: Value has no kind/);
});

test("a sparse array's holes travel as null, as in JSON", () => {
  // biome-ignore lint/suspicious/noSparseArray: the point of the test.
  const sparse = [1, , 3];
  assert.deepEqual(fromValue(toValue(sparse, "result"), "result"), [1, null, 3]);
  assert.deepEqual(fromValue(toValue(new Array(2), "result"), "result"), [null, null]);
});

test("received values past the limits are refused before they are built", () => {
  let deep: Value = { boolValue: true };
  for (let i = 0; i < 100; i++) deep = { listValue: { values: [deep] } };
  assert.throws(() => fromValue(deep, "args[0]"), /nested deeper than maxDepth/);
  const wide: Value = { listValue: { values: Array.from({ length: 11 }, () => ({ boolValue: true })) } };
  assert.throws(
    () => fromValue(wide, "args[0]", undefined, { maxDepth: 64, maxItems: 10, maxBytes: 100, maxArgs: 4 }),
    /more than maxItems \(10\) items/,
  );
  assert.throws(() => fromValue({}, "args[2]"), /args\[2\]: Value has no kind/);
  assert.throws(
    () => fromValue({ ref: { id: "1", owner: 1, methods: [] } }, "args[0]"),
    /only travel over a session/,
  );
});
