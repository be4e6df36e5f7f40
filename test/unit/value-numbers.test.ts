import assert from "node:assert/strict";
import { test } from "node:test";
import { Value } from "../../src/gen/ferry/v1/value.js";
import { fromValue, toValue } from "../../src/value-codec.js";

/** Through the wire bytes, as the other side reads it. */
function overTheWire(value: Value): unknown {
  return fromValue(Value.decode(Value.encode(value).finish()), "arg");
}

const SAFE = Number.MAX_SAFE_INTEGER;

test("integers sent by Python or Go arrive as numbers while safe, bigints past 2^53", () => {
  assert.equal(overTheWire({ int64Value: 5n }), 5);
  assert.equal(overTheWire({ int64Value: -7n }), -7);
  assert.equal(overTheWire({ int64Value: BigInt(SAFE) }), SAFE);
  assert.equal(overTheWire({ int64Value: -BigInt(SAFE) }), -SAFE);
  assert.equal(overTheWire({ int64Value: BigInt(SAFE) + 1n }), 2n ** 53n);
  assert.equal(overTheWire({ int64Value: -(2n ** 63n) }), -(2n ** 63n));
  assert.equal(overTheWire({ uint64Value: 9n }), 9);
  assert.equal(overTheWire({ uint64Value: 2n ** 64n - 1n }), 2n ** 64n - 1n);
});

test("a method written for numbers takes a Go int64 beside a double, and a Python int", () => {
  const add = (a: unknown, b: unknown) => (a as number) + (b as number);
  assert.equal(add(overTheWire({ int64Value: 2n }), overTheWire({ doubleValue: 0.5 })), 2.5);
  assert.equal(add(overTheWire({ int64Value: 2n }), overTheWire({ int64Value: 3n })), 5);
  assert.equal(Math.sqrt(overTheWire({ int64Value: 16n }) as number), 4);
});

test("a TypeScript bigint has its own kind and arrives a bigint, exact, however small", () => {
  assert.deepEqual(toValue(5n, "arg"), { bigintValue: 5n });
  assert.deepEqual(toValue(-(2n ** 63n), "arg"), { bigintValue: -(2n ** 63n) });
  assert.deepEqual(toValue(2n ** 63n, "arg"), { uint64Value: 2n ** 63n });
  for (const n of [0n, 5n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n]) {
    const back = overTheWire(toValue(n, "arg"));
    assert.equal(typeof back, "bigint", `${n}`);
    assert.equal(back, n);
  }
  const product =
    (overTheWire(toValue(3037000499n, "a")) as bigint) * (overTheWire(toValue(3037000499n, "b")) as bigint);
  assert.equal(overTheWire(toValue(product, "result")), 9223372030926249001n);
});

test("a number travels as a double, whole or not, and comes back the same number", () => {
  for (const n of [5, 0, -SAFE, 0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 60), 1e300]) {
    assert.deepEqual(toValue(n, "arg"), { doubleValue: n }, `${n}`);
  }
  for (const n of [0, 5, -0, 0.5, SAFE, -SAFE, 2 ** 53, 2 ** 70, Number.NaN, Number.NEGATIVE_INFINITY]) {
    const back = overTheWire(toValue(n, "arg"));
    assert.equal(typeof back, "number", `${n}`);
    assert.ok(Object.is(back, n), `${n} came back ${String(back)}`);
  }
});
