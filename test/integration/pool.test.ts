import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { MAX_CHUNK_ITEMS } from "../../client/chunk-sizer.js";
import { connect } from "../../client/connect.js";
import { WINDOW_ITEMS } from "../../client/map-window.js";
import { createPool, type Pool } from "../../client/pool.js";
import { RemoteError } from "../../client/remote-error.js";
import { currentCall } from "../../server/call-context.js";
import { Code } from "../../src/code.js";
import { PiEstimatorService as PiEstimator } from "../../src/gen/ferry/v1/pi.js";
import { PrimeCheckerService as PrimeChecker, PrimeMethod } from "../../src/gen/ferry/v1/prime.js";
import { ServerError } from "../../src/server-error.js";
import { BOOK_NUMBERS, BOOK_PRIMES, defer, ROOT, spawnNode, startNode } from "../helpers.js";

const POOL_FIXTURE = `${ROOT}test/fixtures/pool-objects.js`;

/** Resolves when `signal` aborts: what a method does while it is "running" until cancelled. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );
}

class Work {
  readonly name: string;
  cancelled = 0;
  held = 0;
  onCancel = () => {};
  onHold = () => {};
  constructor(name: string) {
    this.name = name;
  }
  square(x: number) {
    return x * x;
  }
  add(a: number, b: number) {
    return a + b;
  }
  refuse(x: number) {
    if (x === 3) throw new ServerError(Code.INVALID_ARGUMENT, "x: 3 is refused", { field: "x" });
    return x;
  }
  async slow(x: number) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return x;
  }
  whoami(_item: unknown) {
    return this.name;
  }
  async hold(_item: unknown) {
    const { signal } = currentCall();
    this.held++;
    this.onHold();
    signal.addEventListener(
      "abort",
      () => {
        this.cancelled++;
        this.onCancel();
      },
      { once: true },
    );
    return untilAborted(signal);
  }
}

const METHODS = ["square", "add", "refuse", "slow", "whoami", "hold"];

async function workNode(name: string, idempotent: boolean | string[] = true) {
  const started = await startNode({ workers: 1 });
  const work = new Work(name);
  started.node.expose("work", work, { methods: METHODS, idempotent });
  return { ...started, work };
}

describe("a pool over two nodes", () => {
  let a: Awaited<ReturnType<typeof workNode>>;
  let b: Awaited<ReturnType<typeof workNode>>;
  let pool: Pool;

  before(async () => {
    a = await workNode("a");
    b = await workNode("b");
    pool = createPool([a.target, b.target]);
  });

  after(async () => {
    pool.close();
    await a.node.shutdown();
    await b.node.shutdown();
  });

  test("map answers in input order, each item once, and spreads the work over both nodes", async () => {
    const before = pool.stats().map((s) => s.items);
    const items = Array.from({ length: 20_000 }, (_, i) => i);
    const results = await pool.map<number>("work.square", items);
    assert.equal(results.length, items.length);
    for (const [i, r] of results.entries()) assert.equal(r, i * i);
    const done = pool.stats().map((s, i) => s.items - (before[i] ?? 0));
    assert.equal(
      done.reduce((x, y) => x + y, 0),
      items.length,
    );
    for (const n of done) assert.ok(n > 0, `every node took items: ${done}`);
  });

  test("the book's numbers through PrimeChecker.isPrime, both methods, exact", async () => {
    for (const method of [PrimeMethod.PRIME_METHOD_TRIAL_DIVISION, PrimeMethod.PRIME_METHOD_MILLER_RABIN]) {
      const results = await pool.map(
        PrimeChecker.isPrime,
        BOOK_NUMBERS.map((n) => ({ n, method })),
      );
      const primes = new Set(results.filter((r) => r.prime).map((r) => r.n));
      assert.deepEqual(primes, BOOK_PRIMES);
      for (const [i, r] of results.entries()) {
        assert.equal(r.n, BOOK_NUMBERS[i]);
        assert.equal(r.method, method);
        if (!r.prime && method === PrimeMethod.PRIME_METHOD_TRIAL_DIVISION) {
          assert.ok(r.divisor > 1n && r.n % r.divisor === 0n);
        }
      }
    }
  });

  test("completions name the node that answered each item", async () => {
    const seen = new Map<number, string>();
    for await (const c of pool.completions<string>(
      "work.whoami",
      Array.from({ length: 200 }, () => null),
    )) {
      assert.ok(c.ok);
      assert.ok(!seen.has(c.index), `item ${c.index} completed twice`);
      seen.set(c.index, c.node);
      assert.equal(c.value, c.node === a.target ? "a" : "b");
    }
    assert.equal(seen.size, 200);
  });

  test("imap keeps order, imapUnordered yields every item, both from async iterables", async () => {
    async function* numbers(count: number) {
      for (let i = 0; i < count; i++) yield i;
    }
    const ordered: number[] = [];
    for await (const r of pool.imap<number>("work.slow", numbers(300))) ordered.push(r);
    assert.deepEqual(
      ordered,
      Array.from({ length: 300 }, (_, i) => i),
    );
    const unordered: number[] = [];
    for await (const r of pool.imapUnordered<number>("work.square", numbers(5000))) unordered.push(r);
    assert.deepEqual(
      unordered.sort((x, y) => x - y),
      Array.from({ length: 5000 }, (_, i) => i * i),
    );
  });

  test("input is pulled lazily: a slow consumer pauses the map, and breaking out closes the input", async () => {
    let pulled = 0;
    let consumed = 0;
    let closed = false;
    function* endless() {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          // Never more ahead of the consumer than the window and the chunks in flight.
          if (pulled - consumed > WINDOW_ITEMS + 4 * MAX_CHUNK_ITEMS) {
            throw new Error(`pulled ${pulled} items with ${consumed} consumed`);
          }
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    for await (const r of pool.imap<number>("work.square", endless())) {
      assert.equal(r, consumed * consumed);
      consumed++;
      if (consumed % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (consumed === 60_000) break;
    }
    assert.ok(closed, "the input generator was closed");
  });

  test("a fixed chunk size delivers every item, from arrays and generators alike", async () => {
    function* numbers() {
      for (let i = 0; i < 20; i++) yield i;
    }
    for (const input of [Array.from({ length: 20 }, (_, i) => i), numbers()]) {
      const results = await pool.map<number>("work.square", input, { chunkSize: 8 });
      assert.deepEqual(
        results,
        Array.from({ length: 20 }, (_, i) => i * i),
      );
    }
  });

  test("closing the pool fails the maps running on it with CANCELLED", async () => {
    const other = createPool([a.target, b.target]);
    const held = defer();
    a.work.onHold = () => held.resolve();
    b.work.onHold = () => held.resolve();
    const run = other.map("work.hold", [1, 2]);
    await held.promise;
    other.close();
    await assert.rejects(
      run,
      (err: RemoteError) => err.code === Code.CANCELLED && /pool was closed/.test(err.message),
    );
    await assert.rejects(other.map("work.square", [1]), (err: RemoteError) => err.code === Code.CANCELLED);
  });

  test("starmap spreads argument lists; submit makes one call", async () => {
    assert.deepEqual(
      await pool.starmap<number>("work.add", [
        [1, 2],
        [3, 4],
      ]),
      [3, 7],
    );
    assert.equal(await pool.submit<number>("work.add", [2, 3]), 5);
    const r = await pool.submit(PrimeChecker.isPrime, { n: 9999999999999917n });
    assert.equal(r.prime, true);
  });

  test("the first failed item fails the map, naming it; errors: 'return' keeps it in place", async () => {
    await assert.rejects(pool.map("work.refuse", [0, 1, 2, 3, 4]), (err: RemoteError) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.equal(err.field, "x");
      assert.match(err.message, /item 3: x: 3 is refused/);
      return true;
    });
    const results = await pool.map<number>("work.refuse", [0, 1, 2, 3, 4], { errors: "return" });
    assert.deepEqual(results.slice(0, 3), [0, 1, 2]);
    assert.ok(results[3] instanceof RemoteError);
    assert.equal(results[3].code, Code.INVALID_ARGUMENT);
    assert.equal(results[4], 4);
    await assert.rejects(
      pool.map(PrimeChecker.isPrime, [{ n: 7n }, { n: -1 }]),
      (err: RemoteError) => err.code === Code.INVALID_ARGUMENT && err.field === "n",
    );
    // An item that cannot be sent fails alone, named by where it sat in the call that carried it.
    const unsendable = await pool.map<number>("work.square", [1, 2, { when: Symbol("t") }, 4], {
      errors: "return",
    });
    assert.deepEqual([unsendable[0], unsendable[1], unsendable[3]], [1, 4, 16]);
    const refused = unsendable[2];
    assert.ok(refused instanceof RemoteError);
    assert.equal(refused.code, Code.INVALID_ARGUMENT);
    assert.match(refused.message, /calls\[\d+\]\[0\]\.when: symbols cannot be sent/);
  });

  test("unknown objects and methods fail fast with what exists", async () => {
    await assert.rejects(pool.map("nosuch.square", [1]), (err: RemoteError) => {
      assert.equal(err.code, Code.NOT_FOUND);
      assert.match(err.message, /objects: .*work/);
      return true;
    });
    await assert.rejects(pool.map("work.nosuch", [1]), (err: RemoteError) => {
      assert.equal(err.code, Code.UNIMPLEMENTED);
      assert.match(err.message, /methods: square, add/);
      return true;
    });
    await assert.rejects(
      pool.map("work._private", [1]),
      (err: RemoteError) => err.code === Code.UNIMPLEMENTED,
    );
  });

  test("bad options and node lists are refused with a clear error", async () => {
    await assert.rejects(
      pool.map("work.square", [1], { chunkSize: 0 }),
      /chunkSize must be an integer from 1/,
    );
    await assert.rejects(pool.map("work.square", [1], { retries: -1 }), /retries must be/);
    await assert.rejects(pool.map("work.square", [1], { concurrency: 0 }), /concurrency must be/);
    await assert.rejects(pool.map("square", [1]), /not "object.method"/);
    await assert.rejects(pool.map("work.square", 42 as never), /items must be an array, an iterable/);
    const iterator = pool.imap("work.square", [1], { chunkSize: 1.5 });
    await assert.rejects(iterator.next(), /chunkSize/);
    assert.throws(() => createPool([]), /a pool needs nodes or a registry/);
    assert.throws(() => createPool({ nodes: [a.target], where: { zone: "a" } }), /give a registry too/);
    assert.throws(
      () => createPool({ registry: "http://127.0.0.1:2379" }),
      /registry must be etcd:\/\/host:port/,
    );
    assert.throws(
      () => createPool(["dns://8.8.8.8/ferry.test:50051"]),
      /DNS server in the target is not supported/,
    );
    assert.throws(() => createPool(["nonsense"]), /not host:port/);
    assert.throws(() => createPool(["127.0.0.1:99999"]), /port from 1 to 65535/);
    assert.throws(() => createPool([a.target, `ferry://${a.target}`]), /listed twice/);
  });

  test("aborting cancels every call in flight on the nodes and ends with CANCELLED, the reason as cause", async () => {
    const controller = new AbortController();
    const heldBefore = a.work.held + b.work.held;
    const cancelledBefore = a.work.cancelled + b.work.cancelled;
    const allHeld = defer();
    const allCancelled = defer();
    for (const node of [a, b]) {
      node.work.onHold = () => {
        if (a.work.held + b.work.held - heldBefore === 4) allHeld.resolve();
      };
      node.work.onCancel = () => {
        if (a.work.cancelled + b.work.cancelled - cancelledBefore === 4) allCancelled.resolve();
      };
    }
    // Each node takes two calls (its one slot plus one queued), so all four run at once.
    const run = pool.map("work.hold", [1, 2, 3, 4], { signal: controller.signal, chunkSize: 1 });
    await allHeld.promise;
    const reason = new Error("the user changed their mind");
    controller.abort(reason);
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof RemoteError, String(err));
      assert.equal(err.code, Code.CANCELLED);
      assert.match(err.details, /the map was aborted by its signal/);
      assert.equal(err.cause, reason);
      return true;
    });
    await allCancelled.promise;
    // A signal that times out is a deadline, as fetch's TimeoutError is.
    await assert.rejects(
      pool.map("work.hold", [1], { signal: AbortSignal.timeout(50), chunkSize: 1 }),
      (err: unknown) => err instanceof RemoteError && err.code === Code.DEADLINE_EXCEEDED,
    );
  });
});

describe("a pool losing nodes", () => {
  test("a node that stops mid-map has its items sent to the other; each result arrives once", async () => {
    const a = await workNode("a");
    const b = await workNode("b");
    const pool = createPool([a.target, b.target]);
    try {
      const seen = new Set<number>();
      let killed = false;
      for await (const c of pool.completions<number>(
        "work.slow",
        Array.from({ length: 3000 }, (_, i) => i),
      )) {
        assert.ok(c.ok, c.ok ? "" : c.error.message);
        assert.equal(c.value, c.index);
        assert.ok(!seen.has(c.index), `item ${c.index} twice`);
        seen.add(c.index);
        if (!killed && seen.size === 500) {
          killed = true;
          void a.node.forceShutdown();
        }
      }
      assert.equal(seen.size, 3000);
      const [sa] = pool.stats();
      assert.equal(sa?.state, "down");
      assert.ok((sa?.failures ?? 0) >= 1);
    } finally {
      pool.close();
      await b.node.shutdown();
    }
  });

  test("a hung node is taken out, its items go elsewhere, and it gets work again once it answers", async () => {
    const nodes = await Promise.all([0, 1].map(() => spawnNode(["--workers", "1", "--load", POOL_FIXTURE])));
    const [hung, other] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    const pool = createPool([hung.target, other.target]);
    try {
      let stopped = false;
      const seen = new Set<number>();
      const items = Array.from({ length: 3000 }, (_, i) => [i, 2]);
      const results = await pool.starmap<number>(
        "Work.slowSquare",
        (function* () {
          for (const [i, item] of items.entries()) {
            if (i === 200 && !stopped) {
              stopped = true;
              hung.child.kill("SIGSTOP");
            }
            seen.add(i);
            yield item as number[];
          }
        })(),
        { chunkSize: 1 },
      );
      assert.equal(seen.size, 3000);
      for (const [i, r] of results.entries()) assert.equal(r, i * i);
      const down = pool.stats()[0];
      assert.equal(down?.state, "down");
      assert.match(down?.error?.message ?? "", /stopped answering/);
      hung.child.kill("SIGCONT");
      while (pool.stats()[0]?.state !== "up") await new Promise((resolve) => setImmediate(resolve));
      const before = pool.stats()[0]?.items ?? 0;
      await pool.map(
        "Work.square",
        Array.from({ length: 2000 }, (_, i) => i),
      );
      assert.ok((pool.stats()[0]?.items ?? 0) > before, "the node that came back got work");
    } finally {
      pool.close();
      for (const n of nodes) {
        n.child.kill("SIGCONT");
        const exited = once(n.child, "exit");
        n.child.kill("SIGTERM");
        await exited;
      }
    }
  });

  test("calls of a method not marked idempotent are not sent twice: they fail with UNAVAILABLE", async () => {
    const a = await workNode("a", false);
    const b = await workNode("b", false);
    const pool = createPool([a.target, b.target]);
    try {
      const holding = defer();
      a.work.onCancel = () => {};
      let started = 0;
      const original = a.work.hold.bind(a.work);
      a.work.hold = (item: unknown) => {
        if (++started === 2) holding.resolve();
        return original(item);
      };
      const run = pool.map("work.hold", [1, 2, 3, 4], { chunkSize: 1, errors: "return" });
      await holding.promise;
      await a.node.forceShutdown();
      // b's calls hold until the map is done; a's fail at once, so stop b's by its own shutdown.
      void b.node.forceShutdown();
      const results = await run;
      const lost = results.filter((r) => r instanceof RemoteError && /not marked idempotent/.test(r.message));
      assert.ok(lost.length >= 2, `a's two calls failed without a retry: ${results}`);
      for (const r of lost) assert.equal((r as RemoteError).code, Code.UNAVAILABLE);
    } finally {
      pool.close();
    }
  });

  test("with every node down the map fails with UNAVAILABLE naming them", async () => {
    const a = await startNode({ workers: 1 });
    const b = await startNode({ workers: 1 });
    await a.node.shutdown();
    await b.node.shutdown();
    const pool = createPool([a.target, b.target]);
    try {
      await assert.rejects(pool.map("work.square", [1, 2, 3]), (err: RemoteError) => {
        assert.equal(err.code, Code.UNAVAILABLE);
        assert.ok(err.message.includes(a.target) && err.message.includes(b.target), err.message);
        return true;
      });
    } finally {
      pool.close();
    }
  });

  test("a straggler at the tail is raced on an idle node; the first answer wins and the copy is cancelled", async () => {
    const slow = await startNode({ workers: 1 });
    const fast = await startNode({ workers: 1 });
    const slowWork = { held: 0, cancelled: 0, onCancel: () => {} };
    slow.node.expose(
      "job",
      {
        run(x: number) {
          const { signal } = currentCall();
          slowWork.held++;
          signal.addEventListener("abort", () => {
            slowWork.cancelled++;
            slowWork.onCancel();
          });
          return untilAborted(signal).then(() => x);
        },
      },
      { methods: ["run"], idempotent: true },
    );
    fast.node.expose("job", { run: (x: number) => x }, { methods: ["run"], idempotent: true });
    const pool = createPool([slow.target, fast.target]);
    try {
      const cancelledAll = defer();
      const completions = [];
      for await (const c of pool.completions<number>("job.run", [1, 2, 3, 4, 5, 6], { chunkSize: 1 })) {
        completions.push(c);
      }
      slowWork.onCancel = () => {
        if (slowWork.cancelled === slowWork.held) cancelledAll.resolve();
      };
      if (slowWork.cancelled === slowWork.held) cancelledAll.resolve();
      assert.deepEqual(completions.map((c) => (c.ok ? c.value : c.error)).sort(), [1, 2, 3, 4, 5, 6]);
      for (const c of completions) assert.equal(c.node, fast.target);
      assert.ok(slowWork.held > 0, "the slow node got work");
      await cancelledAll.promise;
    } finally {
      pool.close();
      await slow.node.shutdown();
      await fast.node.shutdown();
    }
  });
});

describe("split and reduce", () => {
  let a: Awaited<ReturnType<typeof startNode>>;
  let b: Awaited<ReturnType<typeof startNode>>;
  before(async () => {
    a = await startNode({ workers: 1 });
    b = await startNode({ workers: 1 });
  });
  after(async () => {
    await a.node.shutdown();
    await b.node.shutdown();
  });

  test("estimatePi gives the same counts with one node, two nodes, and one unsplit Estimate", async () => {
    const request = { samples: 7n * 2n ** 20n + 12_345n, seed: 42n };
    const one = createPool([a.target]);
    const two = createPool([a.target, b.target]);
    const node = connect(a.target);
    try {
      const direct = await node.pi.estimate(request);
      const r1 = await one.estimatePi(request);
      const r2 = await two.estimatePi(request);
      for (const r of [r1, r2]) {
        assert.equal(r.inside, direct.inside);
        assert.equal(r.samples, request.samples);
        assert.equal(r.pi, direct.pi);
        assert.equal(r.seed, 42n);
      }
      await assert.rejects(two.estimatePi({ samples: 0 }), /samples must be at least 1/);
      await assert.rejects(
        two.map(PiEstimator.estimate, [{ samples: 1, firstBlock: 2n ** 60n }]),
        (err: RemoteError) => err.code === Code.INVALID_ARGUMENT && /first_block/.test(err.message),
      );
    } finally {
      one.close();
      two.close();
      node.close();
    }
  });

  test("isPrime splits trial division across nodes and finds the smallest divisor", async () => {
    const pool = createPool([a.target, b.target]);
    try {
      const composite = await pool.isPrime({ n: 5555553133149889n });
      assert.equal(composite.prime, false);
      assert.equal(composite.divisor, 74535583n);
      const prime = await pool.isPrime({ n: 9999999999999917n });
      assert.equal(prime.prime, true);
      assert.equal(prime.divisor, 0n);
      assert.equal((await pool.isPrime({ n: 97 })).prime, true);
      assert.equal((await pool.isPrime({ n: 2n ** 50n })).divisor, 2n);
      await assert.rejects(pool.isPrime({ n: -1 }), /n must be from 0 to 2\^64-1/);
    } finally {
      pool.close();
    }
  });
});
