import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "../../client/connect.js";
import { createPool } from "../../client/pool.js";
import { withOptions } from "../../client/proxy.js";
import { currentCall } from "../../server/call-context.js";
import { defer, startNode } from "../helpers.js";

// Every entry of a Batch shares the call's AbortSignal; an I/O-bound method
// listening to it in a chunk of more than ten items must not trip Node's
// listener-leak warning (a batch may hold thousands).
test("a chunk of many signal-watching calls raises no listener-leak warning", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  const { node, target } = await startNode({ workers: 1 });
  node.expose(
    "io",
    {
      async wait(x: number) {
        const { signal } = currentCall();
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 5);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
        return x;
      },
    },
    { methods: ["wait"], concurrency: { wait: 100 } },
  );
  const pool = createPool([target]);
  try {
    const items = Array.from({ length: 200 }, (_, i) => i);
    assert.deepEqual(await pool.map<number>("io.wait", items, { chunkSize: 50 }), items);
    assert.deepEqual(
      await pool.map<number>("io.wait", items),
      items,
      "automatic chunks of an I/O-bound method",
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
      [],
    );
  } finally {
    process.off("warning", onWarning);
    pool.close();
    await node.shutdown();
  }
});

test("many proxy calls sharing one AbortSignal: one listener, no warning, and one abort cancels them all", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  const { node, target } = await startNode({ workers: 1 });
  const allStarted = defer();
  let started = 0;
  node.expose(
    "io",
    {
      async wait() {
        if (++started === 50) allStarted.resolve();
        const { signal } = currentCall();
        await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    },
    { methods: ["wait"] },
  );
  const conn = connect(`ferry://${target}/io`);
  try {
    const controller = new AbortController();
    const io = withOptions(conn.proxy<{ wait(): Promise<void> }>(), { signal: controller.signal });
    const calls = Array.from({ length: 50 }, () => io.wait());
    await allStarted.promise;
    controller.abort();
    const settled = await Promise.allSettled(calls);
    assert.ok(settled.every((s) => s.status === "rejected"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
      [],
    );
  } finally {
    process.off("warning", onWarning);
    conn.close();
    await node.shutdown();
  }
});
