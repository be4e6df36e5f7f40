import assert from "node:assert/strict";
import { test } from "node:test";
import { toValue } from "../../src/value-codec.js";

const limits = { maxDepth: 30, maxItems: 1_000_000, maxBytes: 1000, maxArgs: 256 };

test("maxBytes counts a string's UTF-8 bytes, as it travels, not its UTF-16 units", () => {
  assert.deepEqual(toValue("a".repeat(1000), "arg", undefined, limits), { stringValue: "a".repeat(1000) });
  // 600 units, 1,200 bytes: over the limit though shorter than it in units.
  assert.throws(
    () => toValue("é".repeat(600), "arg", undefined, limits),
    /arg: string of 1200 bytes \(UTF-8\) is longer than maxBytes \(1000\)/,
  );
  // 250 emoji: 500 units, 1,000 bytes: just within.
  assert.ok(toValue("😀".repeat(250), "arg", undefined, limits));
  assert.throws(
    () => toValue(new Uint8Array(1001), "arg", undefined, limits),
    /bytes longer than maxBytes \(1000\)/,
  );
});
