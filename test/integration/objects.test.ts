import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { connect, type NodeConnection } from "../../client/connect.js";
import { withOptions } from "../../client/proxy.js";
import { RemoteError } from "../../client/remote-error.js";
import { currentCall } from "../../server/call-context.js";
import type { FerryNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { ObjectsClient } from "../../src/gen/ferry/v1/objects.js";
import { ServerError } from "../../src/server-error.js";
import { fromValue, toValue } from "../../src/value-codec.js";
import { defer, startNode } from "../helpers.js";

class Calculator {
  add(a: number, b: number) {
    return a + b;
  }
  async *countdown(n: number) {
    while (n > 0) yield n--;
  }
  divide(a: number, b: number) {
    if (b === 0) throw new ServerError(Code.INVALID_ARGUMENT, "b: cannot divide by zero", { field: "b" });
    return a / b;
  }
  crash() {
    throw new Error("secret internal detail");
  }
  async wait() {
    const { signal } = currentCall();
    waiting.resolve();
    await new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
    );
  }
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: present so the test can show it is unreachable
  private secret() {
    return "never";
  }
  _hidden() {
    return "never";
  }
}

class Counter {
  count = 0;
  increment() {
    this.count++;
    return this.count;
  }
}

let waiting = defer();
let node: FerryNode;
let target: string;
let conn: NodeConnection;

before(async () => {
  ({ node, target } = await startNode({ workers: 1 }));
  node.expose("calc", new Calculator(), { methods: ["add", "countdown", "divide", "crash", "wait"] });
  node.expose("Counter", Counter, { methods: ["increment"], instance: "session" });
  node.expose("PerCall", Counter, { methods: ["increment"], instance: "percall" });
  conn = connect(`ferry://${target}/calc`);
});

after(async () => {
  conn.close();
  await node.shutdown();
});

test("a proxy calls methods as if local, streams included", async () => {
  const calc = conn.proxy<Calculator>();
  assert.equal(await calc.add(2, 3), 5);
  const seen: number[] = [];
  for await (const n of calc.countdown(3)) seen.push(n);
  assert.deepEqual(seen, [3, 2, 1]);
  assert.deepEqual(await calc.countdown(2), [2, 1]);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => calc.add(i, i)));
  assert.deepEqual(
    results,
    Array.from({ length: 200 }, (_, i) => 2 * i),
  );
  assert.equal(typeof (calc as unknown as { then?: unknown }).then, "undefined");
  assert.equal(String(calc), "[Remote calc]");
  assert.throws(() => {
    (calc as unknown as Record<string, unknown>).add = 1;
  }, /cannot be set/);
});

test("150,000 calls issued at once all answer: frames stay below the message size limit", async () => {
  const calc = conn.proxy<Calculator>();
  // In one frame these would be about 5 MB, past gRPC's 4 MiB message limit.
  const count = 150_000;
  const results = await Promise.all(Array.from({ length: count }, (_, i) => calc.add(i, 1)));
  assert.equal(results.length, count);
  assert.equal(results[count - 1], count);
  assert.ok(results.every((r, i) => r === i + 1));
});

test("instance modes: session objects are per client session, percall objects per call", async () => {
  const mine = conn.proxy<Counter>("Counter");
  assert.equal(await mine.increment(), 1);
  assert.equal(await mine.increment(), 2);
  const other = connect(target);
  try {
    assert.equal(await other.proxy<Counter>("Counter").increment(), 1);
    const perCall = other.proxy<Counter>("PerCall");
    assert.equal(await perCall.increment(), 1);
    assert.equal(await perCall.increment(), 1);
  } finally {
    other.close();
  }
  await mine[Symbol.asyncDispose]();
  await assert.rejects(
    mine.increment(),
    (err: unknown) => err instanceof RemoteError && err.code === Code.FAILED_PRECONDITION,
  );
  assert.equal(await conn.proxy<Counter>("Counter").increment(), 1, "released: a fresh instance");
});

test("errors: ServerError keeps its code; others are UNKNOWN without internals", async () => {
  const calc = conn.proxy<Calculator>();
  await assert.rejects(calc.divide(1, 0), (err: unknown) => {
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.remoteName, "ServerError");
    assert.equal(err.field, "b");
    return true;
  });
  await assert.rejects(calc.crash(), (err: unknown) => {
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, Code.UNKNOWN);
    assert.doesNotMatch(err.message, /secret internal detail/);
    return true;
  });
});

test("unknown, private and prototype names are refused with the list of methods", async () => {
  const calc = conn.proxy<Record<string, () => unknown>>();
  for (const name of ["secret", "_hidden", "nope", "hasOwnProperty", "__defineGetter__"]) {
    await assert.rejects(Promise.resolve(calc[name]?.()), (err: unknown) => {
      assert.ok(err instanceof RemoteError, name);
      assert.equal(err.code, Code.UNIMPLEMENTED, name);
      assert.match(err.details, /methods: add, countdown, divide, crash, wait/);
      return true;
    });
  }
  await assert.rejects(conn.proxy<Calculator>("nothing").add(1, 2), (err: unknown) => {
    return (
      err instanceof RemoteError &&
      err.code === Code.NOT_FOUND &&
      /objects: PrimeChecker, .*calc/.test(err.details)
    );
  });
  await assert.rejects(
    Promise.resolve(
      (conn.proxy<Calculator>() as unknown as { add: (...a: unknown[]) => unknown }).add(1, 2, 3),
    ),
    /calc.add takes 2 arguments, got 3/,
  );
  // A parameter with a default counts: two arguments to greet(name, greeting = "hello") are fine.
  const greeter = { greet: (name: string, greeting = "hello") => `${greeting}, ${name}` };
  node.expose("greeter", greeter, { methods: ["greet"] });
  const greet = conn.proxy<typeof greeter>("greeter");
  assert.equal(await greet.greet("ada"), "hello, ada");
  assert.equal(await greet.greet("ada", "hi"), "hi, ada");
  await assert.rejects(
    Promise.resolve((greet as unknown as { greet: (...a: unknown[]) => unknown }).greet("ada", "hi", "!")),
    /greeter.greet takes 2 arguments, got 3/,
  );
  await assert.rejects(
    conn.proxy<Calculator>().add(Symbol("x") as never, 1),
    /args\[0\]: symbols cannot be sent/,
  );
});

test("exposure refuses private names and constructor at registration", () => {
  assert.throws(() => node.expose("bad1", new Calculator(), { methods: ["_hidden"] }), /starts with "_"/);
  assert.throws(() => node.expose("bad2", new Calculator(), { methods: ["constructor"] }), /never callable/);
  assert.throws(() => node.expose("bad3", new Calculator(), { methods: [] }), /list the callable methods/);
  assert.throws(() => node.expose("calc", new Calculator(), { methods: ["add"] }), /already exposed/);
  // One list of reserved names: what the proxy answers locally, the node refuses to expose.
  for (const name of ["inspect", "toJSON", "then", "valueOf"]) {
    assert.throws(
      () => node.expose(`reserved_${name}`, { [name]: () => 1 }, { methods: [name] }),
      new RegExp(`${name} is a member of every object`),
    );
    assert.equal((conn.proxy("calc") as unknown as Record<string, unknown>)[name], undefined, name);
  }
});

test("an abort reaches the method through its signal; deadlines too", async () => {
  const calc = conn.proxy<Calculator>();
  waiting = defer();
  const ac = new AbortController();
  const call = withOptions(calc, { signal: ac.signal }).wait();
  await waiting.promise;
  ac.abort();
  await assert.rejects(call, (err: unknown) => err instanceof RemoteError && err.code === Code.CANCELLED);
  waiting = defer();
  await assert.rejects(
    withOptions(calc, { timeoutMs: 100 }).wait(),
    (err: unknown) => err instanceof RemoteError && err.code === Code.DEADLINE_EXCEEDED,
  );
  assert.equal(await calc.add(1, 1), 2);
});

test("the compute objects are reachable through sessions too", async () => {
  const primes = conn.proxy<{ isPrime(r: { n: bigint }): { prime: boolean; divisor: bigint } }>(
    "PrimeChecker",
  );
  const r = await primes.isPrime({ n: 4444444488888889n });
  assert.deepEqual([r.prime, r.divisor], [false, 66666667n]);
  await assert.rejects(primes.isPrime({ n: -1n }), /n: must not be negative/);
});

test("unary Invoke and Describe serve clients without sessions", async () => {
  const raw = new ObjectsClient(target, credentials.createInsecure());
  try {
    const invoke = (object: string, method: string, args: unknown[]) =>
      new Promise<unknown>((resolve, reject) =>
        raw.invoke({ object, method, args: args.map((a, i) => toValue(a, `args[${i}]`)) }, (err, res) =>
          err ? reject(err) : resolve(fromValue(res.result, "result")),
        ),
      );
    assert.equal(await invoke("calc", "add", [40, 2]), 42);
    assert.deepEqual(await invoke("calc", "countdown", [3]), [3, 2, 1]);
    await assert.rejects(
      invoke("calc", "secret", []),
      (err: { code: number }) => err.code === Code.UNIMPLEMENTED,
    );
    const described = await new Promise<{
      objects: { name: string; mode: number; methods: { name: string; stream: boolean }[] }[];
    }>((resolve, reject) =>
      raw.describe({ object: "calc" }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    assert.equal(described.objects[0]?.name, "calc");
    assert.deepEqual(
      described.objects[0]?.methods.map((m) => [m.name, m.stream]),
      [
        ["add", false],
        ["countdown", true],
        ["divide", false],
        ["crash", false],
        ["wait", false],
      ],
    );
  } finally {
    raw.close();
  }
});

test("a broken session fails pending calls with UNAVAILABLE; the next call reconnects", async () => {
  const { node: other, target: otherTarget } = await startNode({ workers: 1 });
  other.expose("calc", new Calculator(), { methods: ["add", "wait"] });
  other.expose("Counter", Counter, { methods: ["increment"], instance: "session" });
  const c = connect(otherTarget);
  const calc = c.proxy<Calculator>("calc");
  const counter = c.proxy<Counter>("Counter");
  let restarted: FerryNode | undefined;
  try {
    assert.equal(await calc.add(1, 2), 3);
    assert.equal(await counter.increment(), 1);
    waiting = defer();
    const pending = calc.wait();
    await waiting.promise;
    await other.forceShutdown();
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.UNAVAILABLE);
      assert.match(err.details, /session objects on the node are gone/);
      return true;
    });
    // A node comes back on the same address: the same proxies work again, in a new session.
    const port = Number(otherTarget.slice(otherTarget.lastIndexOf(":") + 1));
    ({ node: restarted } = await startNode({ workers: 1, port }));
    restarted.expose("calc", new Calculator(), { methods: ["add", "wait"] });
    restarted.expose("Counter", Counter, { methods: ["increment"], instance: "session" });
    assert.equal(await calc.add(2, 2), 4);
    assert.equal(await counter.increment(), 1, "session objects started over");
  } finally {
    c.close();
    await restarted?.shutdown();
  }
});

test("every way a call ends early is a RemoteError: its signal aborted, timed out, or its connection closed", async () => {
  const own = connect(target);
  const calc = own.proxy<Calculator>("calc");
  const reason = new Error("no longer needed");
  await assert.rejects(withOptions(calc, { signal: AbortSignal.abort(reason) }).add(1, 2), (err: unknown) => {
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, Code.CANCELLED);
    assert.equal(err.cause, reason);
    return true;
  });
  await assert.rejects(
    own.primes.isPrime({ n: 7n }, { signal: AbortSignal.abort(reason) }),
    (err: unknown) => err instanceof RemoteError && err.code === Code.CANCELLED && err.cause === reason,
  );
  await assert.rejects(
    withOptions(calc, { signal: AbortSignal.timeout(1) }).wait(),
    (err: unknown) => err instanceof RemoteError && err.code === Code.DEADLINE_EXCEEDED,
  );
  own.close();
  await assert.rejects(
    calc.add(1, 2),
    (err: unknown) => err instanceof RemoteError && err.code === Code.CANCELLED,
  );
  assert.throws(
    () => own.proxy("calc"),
    (err: unknown) =>
      err instanceof RemoteError && err.code === Code.CANCELLED && /is closed/.test(err.details),
  );
});

test("a connection's maxMessageBytes caps what a session sends: a larger call fails alone", async () => {
  const small = connect(target, { maxMessageBytes: 64 * 1024 });
  try {
    const calc = small.proxy<{ add(a: unknown, b: unknown): unknown }>("calc");
    await assert.rejects(calc.add("x".repeat(100_000), 1), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      assert.match(err.details, /more than one message may carry \(maxMessageBytes 65536\)/);
      return true;
    });
    assert.equal(await calc.add(2, 3), 5, "the session serves on");
  } finally {
    small.close();
  }
});
