import assert from "node:assert/strict";
import { test } from "node:test";
import { isqrt } from "../../src/kernels/isqrt.js";

test("isqrt of 0..10000 is the largest r with r * r <= n", () => {
  for (let n = 0; n <= 10000; n++) {
    const r = isqrt(BigInt(n));
    assert.ok(r * r <= BigInt(n) && (r + 1n) * (r + 1n) > BigInt(n), `${n}`);
  }
});

test("isqrt is exact around squares up to and beyond 2^64", () => {
  for (const r of [3037000499n, 4294967291n, 4294967295n, 4294967296n, (1n << 40n) + 12345n, 10n ** 30n]) {
    const square = r * r;
    assert.equal(isqrt(square), r, `${r}^2`);
    assert.equal(isqrt(square - 1n), r - 1n, `${r}^2 - 1`);
    assert.equal(isqrt(square + 2n * r), r, `(${r} + 1)^2 - 1`);
  }
  assert.equal(isqrt((1n << 64n) - 1n), 4294967295n);
  assert.equal(isqrt(1n << 64n), 4294967296n);
});

test("isqrt refuses negative numbers", () => {
  assert.throws(() => isqrt(-1n), RangeError);
});
