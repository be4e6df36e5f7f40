/**
 * Results that are hard to send back: a sparse array, and results that
 * together pass the message limit. The call or the frame copes; the session
 * and the node go on (see test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code, codeName } from "../../src/code.js";
import { within } from "../helpers.js";
import { type Calculator, type Counter, type HostileNode, MIB, startHostileNode } from "../hostile-node.js";
import { callBytes, frameOfCalls, sessionRaw, sessionResults, V } from "../hostile-wire.js";

describe("hostile input: results", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode();
  });

  after(async () => {
    await hostile?.close();
  });

  test("a result the wire cannot carry (a sparse array) fails only its own call; the session goes on", async () => {
    const { target, assertServing } = hostile;
    const conn = connect(target, { defaultTimeoutMs: 10_000, maxMessageBytes: 4 * MIB + 3 });
    try {
      const calc = conn.proxy<Calculator>("calc");
      const counter = conn.proxy<Counter>("Counter");
      assert.equal(await counter.increment(), 1);
      const [gaps, sum] = await within(
        Promise.allSettled([calc.gaps(3), calc.add(1, 2)]),
        10_000,
        "a sparse array result and its neighbour",
      );
      if (gaps.status === "fulfilled") {
        assert.deepEqual(gaps.value, [null, null, null], "holes may travel as null");
      } else {
        const err = gaps.reason as RemoteError;
        assert.ok(err instanceof RemoteError, String(err));
        assert.notEqual(
          err.code,
          Code.UNAVAILABLE,
          `the call may fail, its session must not: ${err.message}`,
        );
      }
      assert.equal(
        sum.status,
        "fulfilled",
        `the call beside it was lost: ${(sum as PromiseRejectedResult).reason}`,
      );
      assert.equal(await counter.increment(), 2, "the session (and its session-mode Counter) survived");
    } finally {
      conn.close();
    }
    await assertServing("after a sparse array result");
  });

  test("results that together pass the message limit go back in several frames; the session survives", async () => {
    const { raw, assertServing } = hostile;
    // Each result (2.5 MB) fits in a message; the three answered in one turn do not fit in one frame.
    const n = V.double(2_500_000);
    const { status, responses } = await sessionRaw(
      raw,
      [
        frameOfCalls(
          callBytes(1, "calc", "big", [n]),
          callBytes(2, "calc", "big", [n]),
          callBytes(3, "calc", "big", [n]),
        ),
      ],
      15_000,
    );
    assert.equal(status.code, Code.OK, `the session broke: ${codeName(status.code)}: ${status.details}`);
    const messages = sessionResults(responses);
    for (const id of [1n, 2n, 3n]) {
      const r = messages.find((m) => m.result?.id === id)?.result;
      assert.equal(
        r?.value?.stringValue?.length,
        2_500_000,
        `result ${id}: ${r?.error?.message ?? "missing"}`,
      );
    }
    await assertServing("after large results");
  });
});
