import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ChunkFailure,
  type ChunkFailureAction,
  decideChunkFailure,
} from "../../client/chunk-failure.js";
import { Code } from "../../src/code.js";

const up = { nodeUp: true, items: 8, solo: false };
const one = { nodeUp: true, items: 1, solo: false };

test("the pool's failure policy for a chunk, case by case", () => {
  const table: [string, ChunkFailure, ChunkFailureAction][] = [
    ["a node that is down", { ...up, nodeUp: false, code: Code.INVALID_ARGUMENT }, "node down"],
    ["a lost connection", { ...up, code: Code.UNAVAILABLE }, "node down"],
    ["an overloaded node, one item", { ...one, code: Code.RESOURCE_EXHAUSTED }, "back off"],
    [
      "an overloaded node, one item already alone",
      { ...one, solo: true, code: Code.RESOURCE_EXHAUSTED },
      "fail items",
    ],
    ["a chunk too big as a whole", { ...up, code: Code.RESOURCE_EXHAUSTED }, "one by one"],
    ["no such object here", { ...up, code: Code.NOT_FOUND }, "not here"],
    ["no such method here", { ...one, code: Code.UNIMPLEMENTED }, "not here"],
    ["a bad item in a chunk", { ...up, code: Code.INVALID_ARGUMENT }, "one by one"],
    ["a bad item alone", { ...one, code: Code.INVALID_ARGUMENT }, "fail items"],
    ["a chunk past its deadline", { ...up, code: Code.DEADLINE_EXCEEDED }, "fail items"],
    ["an item past its deadline", { ...one, code: Code.DEADLINE_EXCEEDED }, "fail items"],
    ["a refusal of the caller's build", { ...one, code: Code.FAILED_PRECONDITION }, "fail items"],
  ];
  for (const [what, failure, action] of table) assert.equal(decideChunkFailure(failure), action, what);
});
