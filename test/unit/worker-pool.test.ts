import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WorkerPool } from "../../server/worker-pool.js";
import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";

const FAULTY = fileURLToPath(new URL("../fixtures/faulty-worker.mjs", import.meta.url));

const internal = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ServerError, String(err));
  assert.equal(err.code, Code.INTERNAL);
  assert.match(err.message, pattern);
  return true;
};

test("a worker that throws, runs out of memory or exits fails its call with INTERNAL; the pool keeps serving", async () => {
  const pool = new WorkerPool({ workers: 1, workerFile: FAULTY, workerHeapMb: 32 });
  const signal = new AbortController().signal;
  const ok = () => pool.run({ kind: "miller-rabin", n: 97n } as never, signal);
  try {
    assert.equal((await ok()).kind, "prime");
    await assert.rejects(
      pool.run({ kind: "throw" } as never, signal),
      internal(/worker running this call failed/),
    );
    assert.equal((await ok()).kind, "prime");
    await assert.rejects(
      pool.run({ kind: "oom" } as never, signal),
      internal(/ran out of memory and was replaced/),
    );
    assert.equal((await ok()).kind, "prime", "a new thread took the dead one's place");
    await assert.rejects(pool.run({ kind: "exit" } as never, signal), internal(/failed/));
    assert.equal((await ok()).kind, "prime");
    assert.equal(pool.pending, 0);
  } finally {
    await pool.destroy();
  }
});
