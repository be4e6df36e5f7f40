import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "../../src/code.js";
import { decodeArgs, ListPath, toValues } from "../../src/value-lists.js";

test("a list path names the item a loop is at, nested lists included", () => {
  const calls = new ListPath("calls");
  const args = new ListPath(".args", calls);
  calls.index = 3;
  args.index = 1;
  assert.equal(args.at(), "calls[3].args[1]");
  assert.equal(args.list(), "calls[3].args");
  assert.equal(new ListPath("", calls).at(), "calls[3][0]");
});

test("a refused value and too many arguments name their place", () => {
  const calls = new ListPath("calls");
  calls.index = 2;
  assert.throws(
    () => toValues([1, Symbol("x")], new ListPath("", calls)),
    (err: Error & { field?: string }) => /^calls\[2\]\[1\]/.test(err.message),
  );
  const many = Array.from({ length: 257 }, () => ({ doubleValue: 1 }));
  assert.throws(
    () => decodeArgs(many, new ListPath(".args", calls)),
    (err: Error & { code?: number; field?: string }) =>
      err.code === Code.INVALID_ARGUMENT &&
      err.field === "calls[2].args" &&
      /at most 256 arguments, got 257/.test(err.message),
  );
});
