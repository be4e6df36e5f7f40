import assert from "node:assert/strict";
import { test } from "node:test";
import { heldLoopFailure, type MemberView, noNodeCanTakeWork } from "../../client/map-failure.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code } from "../../src/code.js";

const lost = new RemoteError(Code.UNAVAILABLE, "b:2 is down");
const member = (target: string, over: Partial<MemberView> = {}): MemberView => ({
  target,
  heldBy: undefined,
  state: "up",
  confirmedDown: false,
  error: undefined,
  ...over,
});
const down = (target: string) => member(target, { state: "down", confirmedDown: true, error: lost });
const noNodes = () => new RemoteError(Code.UNAVAILABLE, "the pool has no nodes");
const refusing = (refused: Set<string>) => ({
  refusal: (m: MemberView) =>
    refused.has(m.target) ? new RemoteError(Code.UNIMPLEMENTED, `${m.target} has no such method`) : undefined,
});

test("when no node can take a map's work, case by case", () => {
  const none = refusing(new Set());
  const table: [string, MemberView[], boolean, ReturnType<typeof refusing>, RegExp | undefined][] = [
    ["no nodes while the list resolves", [], true, none, undefined],
    ["no nodes once it is known", [], false, none, /no nodes/],
    ["one node up", [member("a:1")], false, none, undefined],
    ["one node connecting", [member("a:1", { state: "connecting" })], false, none, undefined],
    ["a node down but not for sure", [member("a:1", { state: "down", error: lost })], false, none, undefined],
    [
      "every node down for sure",
      [down("a:1"), down("b:2")],
      false,
      none,
      /^no node can take work: b:2 is down; b:2/,
    ],
    [
      "every node refuses the method",
      [member("a:1")],
      false,
      refusing(new Set(["a:1"])),
      /a:1 has no such method/,
    ],
    ["one refuses, one is up", [member("a:1"), member("b:2")], false, refusing(new Set(["a:1"])), undefined],
  ];
  for (const [what, members, resolving, descriptions, expected] of table) {
    const failure = noNodeCanTakeWork({ members, resolving, noNodes }, descriptions);
    if (expected === undefined) assert.equal(failure, undefined, what);
    else assert.match(failure?.details ?? "(none)", expected, what);
  }
});

test("a node that went silent because the map's method held its loop fails the map, naming the method", () => {
  const method = { object: "scoring", method: "score" };
  const held = member("a:1", { heldBy: { method: "scoring.score", ms: 1234, at: 50 } });
  assert.match(
    heldLoopFailure([member("b:2"), held], method, 10)?.details ?? "",
    /a:1 .*1234 ms.*run: "workers"/,
  );
  assert.equal(heldLoopFailure([held], method, 60), undefined, "a hold from before the map started");
  assert.equal(
    heldLoopFailure([held], { object: "scoring", method: "other" }, 10),
    undefined,
    "another method",
  );
});
