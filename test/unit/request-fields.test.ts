import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeMessage } from "../../src/request-fields.js";

test("requests are typed from the contract: uint64 to bigint, enums by name", () => {
  assert.deepEqual(normalizeMessage("ferry.v1.IsPrimeRequest", { n: "97", method: "MILLER_RABIN" }), {
    n: 97n,
    method: 2,
  });
  assert.deepEqual(
    normalizeMessage("ferry.v1.IsPrimeRequest", { n: 5, method: "prime_method_trial_division" }),
    {
      n: 5n,
      method: 1,
    },
  );
  assert.deepEqual(normalizeMessage("ferry.v1.FetchManyRequest", { urls: ["http://a/"], timeout_ms: 50 }), {
    urls: ["http://a/"],
    timeoutMs: 50,
  });
});

test("bad requests name the field and what is allowed", () => {
  assert.throws(() => normalizeMessage("ferry.v1.IsPrimeRequest", [1]), /request: must be an object/);
  assert.throws(
    () => normalizeMessage("ferry.v1.IsPrimeRequest", { x: 1 }),
    /x: unknown field of IsPrimeRequest \(fields: n, method\)/,
  );
  assert.throws(
    () => normalizeMessage("ferry.v1.IsPrimeRequest", { method: "FAST" }),
    /method: unknown PrimeMethod "FAST" \(values: PRIME_METHOD_UNSPECIFIED/,
  );
  assert.throws(
    () => normalizeMessage("ferry.v1.FetchManyRequest", { urls: "http://a/" }),
    /urls: must be a list/,
  );
  assert.throws(
    () => normalizeMessage("ferry.v1.FetchManyRequest", { urls: [1] }),
    /urls\[0\]: must be a string/,
  );
  assert.throws(
    () => normalizeMessage("ferry.v1.FetchRequest", { timeoutMs: -1 }),
    /timeoutMs: must not be negative/,
  );
});
