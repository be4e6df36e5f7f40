import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { WorkerPool } from "../../server/workers/worker-pool.js";
import type { CallTask, ModuleSpec } from "../../server/workers/worker-task.js";
import { Code } from "../../src/code.js";
import { ServerMessage } from "../../src/gen/ferry/v1/objects.js";
import { createLog, SILENT } from "../../src/log.js";
import { ServerError } from "../../src/server-error.js";
import { fromValue } from "../../src/value-codec.js";

const MODULE = new URL("../fixtures/worker-objects.js", import.meta.url).href;

const spec = (exportName: string, methods: string[], isClass = false): ModuleSpec => ({
  module: MODULE,
  file: "test/fixtures/worker-objects.js",
  exportName,
  methods,
  isClass,
});

/** A call of `exportName.method(...args)` answered as one Result. */
function task(
  exportName: string,
  method: string,
  args: unknown[],
  instance: CallTask["instance"] = { kind: "export" },
): CallTask {
  return {
    kind: "call",
    module: MODULE,
    exportName,
    label: `${exportName}.${method}`,
    method,
    instance,
    args: { kind: "one", args },
    answer: "result",
    id: 1n,
    window: 0,
    deadline: Date.now() + 30_000,
    sessionId: undefined,
    peer: "test",
    traceparent: undefined,
  };
}

/** The value of an encoded Result. */
function resultOf(bytes: Uint8Array | undefined): unknown {
  return fromValue(ServerMessage.decode(bytes as Uint8Array).result?.value, "result");
}

const code = (expected: Code, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ServerError, String(err));
  assert.equal(err.code, expected, err.message);
  assert.match(err.message, pattern);
  return true;
};

const never = () => new AbortController().signal;

test("a pool runs kernels and users' calls; a thread that dies fails only its own call", async () => {
  const pool = new WorkerPool({ workers: 1, limits: { workerHeapMb: 32 }, log: SILENT });
  try {
    await pool.load(spec("work", ["square", "thread"]));
    await pool.load(spec("tricky", ["hog", "quit", "crash"]));
    assert.equal((await pool.run({ kind: "miller-rabin", n: 97n }, never())).kind, "prime");
    assert.equal(resultOf(await pool.call(task("work", "square", [7]), never())), 49);
    const first = resultOf(await pool.call(task("work", "thread", []), never()));
    for (const [method, pattern] of [
      ["hog", /tricky\.hog: its worker thread ran out of memory \(workerHeapMb 32\) and was replaced/],
      ["quit", /tricky\.quit: its worker thread exited \(process\.exit\(3\)\) and was replaced/],
      ["crash", /tricky\.crash: its worker thread ended on an uncaught Error and was replaced/],
    ] as const) {
      await assert.rejects(pool.call(task("tricky", method, []), never()), code(Code.INTERNAL, pattern));
      // The new thread imported the module before taking this call.
      assert.equal(resultOf(await pool.call(task("work", "square", [3]), never())), 9, `after ${method}`);
    }
    assert.notEqual(resultOf(await pool.call(task("work", "thread", []), never())), first);
    assert.equal(pool.pending, 0);
  } finally {
    await pool.destroy();
  }
});

test("a call that ignores its cancellation is answered at once and its thread replaced after the grace", async () => {
  const logged: string[] = [];
  const pool = new WorkerPool({
    workers: 1,
    limits: { stopGraceMs: 100 },
    log: createLog({ name: "ferry node", write: (line) => logged.push(line) }),
  });
  try {
    await pool.load(spec("tricky", ["spin"]));
    await pool.load(spec("work", ["thread"]));
    const before = resultOf(await pool.call(task("work", "thread", []), never()));
    const controller = new AbortController();
    const spinning = pool.call(task("tricky", "spin", []), controller.signal);
    // Queued behind the spin: it runs on the thread that replaces the spinning one.
    const next = pool.call(task("work", "thread", []), never());
    controller.abort(new ServerError(Code.DEADLINE_EXCEEDED, "deadline exceeded"));
    await assert.rejects(spinning, code(Code.DEADLINE_EXCEEDED, /deadline exceeded/));
    assert.notEqual(resultOf(await next), before);
    assert.match(logged.join("\n"), /tricky\.spin went on 100 ms after its deadline without stopping/);
  } finally {
    await pool.destroy();
  }
});

test("a queued task that is cancelled never runs, and a full queue refuses with RESOURCE_EXHAUSTED", async () => {
  const pool = new WorkerPool({ workers: 1, limits: { maxQueue: 1 }, log: SILENT });
  try {
    await pool.load(spec("tricky", ["politeSpin"]));
    await pool.load(spec("work", ["square"]));
    const busy = new AbortController();
    const spinning = pool.call(task("tricky", "politeSpin", []), busy.signal);
    const queued = new AbortController();
    const waiting = pool.call(task("work", "square", [2]), queued.signal);
    await assert.rejects(
      pool.call(task("work", "square", [3]), never()),
      code(Code.RESOURCE_EXHAUSTED, /limit of 1 queued tasks/),
    );
    queued.abort();
    await assert.rejects(waiting, code(Code.CANCELLED, /cancelled/));
    assert.equal(pool.queued, 0);
    busy.abort();
    await assert.rejects(spinning, code(Code.CANCELLED, /cancelled/));
    assert.equal(resultOf(await pool.call(task("work", "square", [4]), never())), 16);
  } finally {
    await pool.destroy();
  }
});

test("an actor's calls wait for its own thread, in order, while other work takes the free ones", async () => {
  const pool = new WorkerPool({ workers: 2, log: SILENT });
  try {
    await pool.load(spec("Model", ["add"], true));
    await pool.load(spec("work", ["burn"]));
    const home = pool.placeActor();
    const actor = { kind: "actor", id: 7 } as const;
    const sums = await Promise.all(
      [1, 2, 3, 4].map((x) => pool.call(task("Model", "add", [x], actor), never(), home)),
    );
    assert.deepEqual(
      sums.map((bytes) => (resultOf(bytes) as { sum: number }).sum),
      [1, 3, 6, 10],
    );
    const threads = new Set(sums.map((bytes) => (resultOf(bytes) as { thread: number }).thread));
    assert.deepEqual([...threads], [home.threadId]);
    // A second actor goes to the other thread, the one with no actor yet.
    assert.notEqual(pool.placeActor(), home);
  } finally {
    await pool.destroy();
  }
});

test("a module that cannot be imported, or lacks what was exposed, is refused naming the file, export and cause", async () => {
  const pool = new WorkerPool({ workers: 1, log: SILENT });
  try {
    await assert.rejects(
      pool.load({
        ...spec("work", ["square"]),
        module: new URL("../fixtures/no-such.js", import.meta.url).href,
        file: "no-such.js",
      }),
      /worker threads cannot import no-such\.js \(export work\): .*Cannot find module/,
    );
    await assert.rejects(pool.load(spec("work", ["square", "cube"])), /export work has no method cube/);
    await assert.rejects(pool.load(spec("missing", ["square"])), /export missing is not an object/);
    // A module whose import ends the thread: refused, and the new thread does not import it again.
    await assert.rejects(
      pool.load({
        ...spec("gone", ["x"]),
        module: new URL("../fixtures/worker-import-exits.js", import.meta.url).href,
        file: "worker-import-exits.js",
      }),
      /worker threads cannot import worker-import-exits\.js \(export gone\): the thread exited \(process\.exit\(7\)\) while importing it/,
    );
    await pool.load(spec("work", ["square"]));
    assert.equal(resultOf(await pool.call(task("work", "square", [5]), never())), 25);
  } finally {
    await pool.destroy();
  }
});

test("a pool whose thread answers while it is being ended still finishes destroy()", async () => {
  // In a process of its own: the fault was a process that ended before
  // destroy() settled, which would take this file's other tests with it.
  // The task's answer is queued (the main thread is blocked while the thread
  // answers) and read only after destroy() has begun ending the thread.
  const script = `
    import { WorkerPool } from ${JSON.stringify(new URL("../../server/workers/worker-pool.ts", import.meta.url).href)};
    import { SILENT } from ${JSON.stringify(new URL("../../src/log.ts", import.meta.url).href)};
    const pool = new WorkerPool({ workers: 1, log: SILENT });
    const never = new AbortController().signal;
    await pool.run({ kind: "trial-division", n: 7n }, never);
    pool.run({ kind: "trial-division", n: 7n }, never).catch(() => {});
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    pool.destroy().then(() => console.log("destroyed"));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script],
    { timeout: 30_000 },
  );
  assert.equal(stdout.trim(), "destroyed");
});
