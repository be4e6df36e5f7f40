import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { BOOK_NUMBERS, BOOK_PRIMES, ROOT, smallestDivisorSlow, startNode } from "../helpers.js";

const run = promisify(execFile);

// Debian's own python3 with python3-grpcio, and message classes from Debian's
// protoc (test/interop/setup.sh, run by `make test`), against a real node.
test("a Python client built from the .proto files gets exact answers", async () => {
  const { node, target } = await startNode({ workers: 2 });
  try {
    const { stdout } = await run("/usr/bin/python3", [`${ROOT}test/interop/client.py`, target], {
      timeout: 120_000,
    });
    const out = JSON.parse(stdout) as {
      primes: { n: string; prime: boolean; divisor: string; method: string }[];
      pi: { pi: number; inside: string; samples: string; seed: string };
      error: { code: string; message: string; name: string; field: string };
      info: { workers: number; objects: string[] };
    };
    assert.equal(out.primes.length, 40);
    for (const [i, r] of out.primes.entries()) {
      const n = BOOK_NUMBERS[i % 20] as bigint;
      assert.equal(r.n, n.toString());
      assert.equal(r.prime, BOOK_PRIMES.has(n), r.n);
      if (i < 20) {
        assert.equal(r.method, "PRIME_METHOD_TRIAL_DIVISION");
        assert.equal(r.divisor, (BOOK_PRIMES.has(n) ? 0n : smallestDivisorSlow(n)).toString());
      } else {
        assert.equal(r.method, "PRIME_METHOD_MILLER_RABIN");
      }
    }
    // The same request from TypeScript gives the same count.
    const { connect } = await import("../../client/connect.js");
    const conn = connect(target);
    const ts = await conn.pi.estimate({ samples: 5_000_000n, seed: 42n });
    conn.close();
    assert.equal(out.pi.inside, ts.inside.toString());
    assert.equal(out.pi.samples, "5000000");
    assert.ok(Math.abs(out.pi.pi - Math.PI) < 0.01);
    assert.deepEqual(out.error, {
      code: "INVALID_ARGUMENT",
      message: out.error.message,
      name: "ServerError",
      field: "method",
    });
    assert.match(out.error.message, /method: unknown PrimeMethod 9/);
    assert.equal(out.info.workers, 2);
    assert.deepEqual(out.info.objects, ["PrimeChecker", "PiEstimator", "Fetcher", "Node"]);
  } finally {
    await node.shutdown();
  }
});

/** What objects_client.py prints for a calculator exposed as `calc`, on the main thread or in workers. */
const EXPECTED_CALC = {
  add_floats: 3,
  // Python ints reach the method as numbers; a JavaScript number comes back a double.
  add_ints: "5.0",
  countdown: [3, 2, 1],
  prime: { prime: true, n: "9999999999999917" },
  error: {
    code: "INVALID_ARGUMENT",
    message: "b: cannot divide by zero",
    name: "ServerError",
    field: "b",
  },
};

/**
 * Runs numbers_client.py: Python ints, and ints beside floats, given to `calc.add`
 * (`a + b`) and `calc.sqrt` (`Math.sqrt`), through Invoke and a session.
 */
async function assertNumbersPass(target: string): Promise<void> {
  const outcome = await run("/usr/bin/python3", [`${ROOT}test/interop/numbers_client.py`, target], {
    timeout: 60_000,
  }).catch((err: { code?: number; stdout?: string; stderr?: string }) => err);
  const { stdout = "", stderr = "" } = outcome;
  assert.match(stdout, /^16 passed, 0 failed$/m, `${stdout}${stderr}`);
  assert.ok(!("code" in outcome) || outcome.code === 0, `numbers_client.py failed:\n${stdout}${stderr}`);
}

test("Python calls an exposed object through Invoke and reads a typed error", async () => {
  const { ServerError } = await import("../../src/server-error.js");
  const { Code } = await import("../../src/code.js");
  class Calculator {
    add(a: number, b: number) {
      return a + b;
    }
    sqrt(x: number) {
      return Math.sqrt(x);
    }
    async *countdown(n: number) {
      while (n > 0) yield n--;
    }
    divide(a: number, b: number) {
      if (b === 0) throw new ServerError(Code.INVALID_ARGUMENT, "b: cannot divide by zero", { field: "b" });
      return a / b;
    }
  }
  const { node, target } = await startNode({ workers: 1 });
  node.expose("calc", new Calculator(), { methods: ["add", "sqrt", "countdown", "divide"] });
  try {
    const { stdout } = await run("/usr/bin/python3", [`${ROOT}test/interop/objects_client.py`, target], {
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(stdout), EXPECTED_CALC);
    await assertNumbersPass(target);
  } finally {
    await node.shutdown();
  }
});

test("Python's Invoke reaches a method that runs in the node's worker threads", async () => {
  const { createNode } = await import("../../server/create-node.js");
  const { loadObjects } = await import("../../server/load-objects.js");
  const node = createNode({ port: 0, workers: 2, log: () => {} });
  await loadObjects(node, `${ROOT}test/fixtures/worker-calc.js`);
  const { target } = await node.listen();
  try {
    const { stdout } = await run("/usr/bin/python3", [`${ROOT}test/interop/objects_client.py`, target], {
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(stdout), EXPECTED_CALC);
    await assertNumbersPass(target);
  } finally {
    await node.shutdown();
  }
});
