/**
 * A cancel storm: 10,000 calls waiting on the node through one session, all
 * cancelled at once. Every call ends, every method sees its signal abort, and
 * the node is idle and serving again (see test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect } from "../../client/connect.js";
import { withOptions } from "../../client/proxy.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code } from "../../src/code.js";
import { within } from "../helpers.js";
import { type Calculator, type HostileNode, MIB, startHostileNode } from "../hostile-node.js";
import { waitFor } from "../hostile-wire.js";

describe("hostile input: cancel storm", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode();
  });

  after(async () => {
    await hostile?.close();
  });

  test("10,000 calls cancelled at once through one session all end, and the node is idle again", async () => {
    const { target, node, calculator, goodCall, assertServing, assertSettled } = hostile;
    const burst = connect(target, { defaultTimeoutMs: 30_000, maxMessageBytes: 4 * MIB + 4 });
    try {
      const calc = burst.proxy<Calculator>("calc");
      assert.equal(await calc.add(1, 1), 2); // the proxy knows the methods from here on
      const controller = new AbortController();
      const cancellable = withOptions(calc, { signal: controller.signal });
      const { waits } = calculator;
      const startedBefore = waits.started;
      const finishedBefore = waits.finished;
      const count = 10_000;
      const calls = Array.from({ length: count }, () => cancellable.wait());
      const settled = Promise.allSettled(calls);
      await waitFor(
        () => waits.started - startedBefore === count,
        20_000,
        () => `all ${count} calls to start on the node (${waits.started - startedBefore} did)`,
      );
      assert.ok(node.inFlight >= count, `node.inFlight is ${node.inFlight} with ${count} calls running`);
      await goodCall("with 10,000 calls waiting on the node");
      controller.abort();
      const results = await within(settled, 20_000, `the ${count} cancelled calls to reject`);
      const wrong = results.filter(
        (r) =>
          r.status !== "rejected" ||
          !(
            (r.reason instanceof RemoteError && r.reason.code === Code.CANCELLED) ||
            (r.reason as Error)?.name === "AbortError"
          ),
      );
      assert.equal(
        wrong.length,
        0,
        `${wrong.length} calls did not end with CANCELLED, e.g. ${String((wrong[0] as PromiseRejectedResult | undefined)?.reason ?? wrong[0]?.status)}`,
      );
      await waitFor(
        () => waits.finished - finishedBefore === count,
        20_000,
        () => `every method to see its signal abort (${waits.finished - finishedBefore} of ${count})`,
      );
      await assertSettled("after 10,000 cancels");
      assert.equal(await calc.add(2, 2), 4, "the cancelling client's own session still works");
    } finally {
      burst.close();
    }
    await assertServing("after 10,000 cancels");
  });
});
