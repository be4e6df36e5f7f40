import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerError } from "../../src/server-error.js";
import { parseUint32, parseUint64 } from "../../src/uint64.js";

test("parseUint64 reads bigints, safe numbers and decimal strings exactly", () => {
  assert.equal(parseUint64(0, "n"), 0n);
  assert.equal(parseUint64(9007199254740991, "n"), 9007199254740991n);
  assert.equal(parseUint64("9999999999999917", "n"), 9999999999999917n);
  assert.equal(parseUint64(" 18446744073709551615 ", "n"), 18446744073709551615n);
  assert.equal(parseUint64(18446744073709551615n, "n"), 18446744073709551615n);
});

test("parseUint64 refuses what is not exactly a uint64, naming the field", () => {
  const bad: [unknown, RegExp][] = [
    [-1, /must not be negative/],
    ["-1", /decimal integer/],
    [-1n, /must not be negative/],
    [1.5, /non-negative integer/],
    [Number.NaN, /non-negative integer/],
    [Number.POSITIVE_INFINITY, /non-negative integer/],
    [2 ** 53 + 2, /send it as a string/],
    ["1e5", /decimal integer/],
    ["0x10", /decimal integer/],
    ["", /decimal integer/],
    [2n ** 64n, /below 2\^64/],
    [null, /got null/],
    [[1], /got an array/],
    [true, /got boolean/],
  ];
  for (const [value, pattern] of bad) {
    assert.throws(
      () => parseUint64(value, "samples"),
      (err: unknown) => err instanceof ServerError && err.field === "samples" && pattern.test(err.message),
      String(value),
    );
  }
});

test("parseUint32 stops at 2^32-1", () => {
  assert.equal(parseUint32("4294967295", "t"), 4294967295);
  assert.throws(() => parseUint32(4294967296, "t"), /t: must be at most 4294967295/);
});
