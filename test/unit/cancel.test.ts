import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CancelledError,
  cancel,
  createCancelFlag,
  isCancelled,
  throwIfCancelled,
} from "../../src/kernels/cancel.js";

test("a new flag is lowered until raised, and an absent flag never is", () => {
  const flag = createCancelFlag();
  assert.ok(flag.buffer instanceof SharedArrayBuffer);
  assert.equal(isCancelled(flag), false);
  assert.equal(isCancelled(undefined), false);
  throwIfCancelled(flag);
  throwIfCancelled(undefined);
  cancel(flag);
  assert.equal(isCancelled(flag), true);
  assert.throws(() => throwIfCancelled(flag), CancelledError);
});

test("a flag over a plain ArrayBuffer works on one thread", () => {
  const flag = new Int32Array(1);
  cancel(flag);
  assert.equal(isCancelled(flag), true);
});

test("CancelledError is an Error named CancelledError", () => {
  const error = new CancelledError();
  assert.ok(error instanceof Error);
  assert.equal(error.name, "CancelledError");
  assert.equal(error.message, "cancelled");
});
