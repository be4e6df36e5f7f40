import assert from "node:assert/strict";
import { test } from "node:test";
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { connect } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import { Code } from "../../src/code.js";
import { PrimeMethod } from "../../src/gen/ferry/v1/prime.js";
import { VERSION } from "../../src/version.js";
import { ROOT, startNode } from "../helpers.js";

// The largest prime below 2^64: trial division needs ~2^31 divisions (seconds of work).
const LONG_PRIME = 18446744073709551557n;

type Unary = (
  req: object,
  md: Metadata,
  opts: object,
  cb: (e: ServiceError | null, r: Record<string, unknown>) => void,
) => void;

function healthClient(target: string) {
  const def = loadSync(healthProtoPath, { keepCase: true, enums: String });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: unknown) => { check: Unary; close(): void } } } };
  };
  return new pkg.grpc.health.v1.Health(target, credentials.createInsecure());
}

function call<T>(fn: Unary, req: object, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) =>
    fn(req, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) =>
      e ? reject(e) : resolve(r as T),
    ),
  );
}

test("Info describes the node, its slots and its objects", async () => {
  const before = performance.now();
  const { node, target } = await startNode({ workers: 3 });
  const conn = connect(target);
  try {
    const info = await conn.node.info({});
    const since = (performance.now() - before) / 1000;
    assert.equal(info.workers, 3);
    assert.equal(info.pid, process.pid);
    assert.equal(info.version, VERSION);
    assert.equal(info.protocol, 1);
    assert.ok(info.cores >= 1);
    assert.equal(info.inFlight, 0);
    // Seconds since this node was made: more than none, less than since the test began making it.
    assert.ok(info.uptimeSeconds > 0 && info.uptimeSeconds <= since, `${info.uptimeSeconds} s of ${since} s`);
    const objects = Object.fromEntries(info.objects.map((o) => [o.name, o.methods.map((m) => m.name)]));
    assert.deepEqual(objects, {
      PrimeChecker: ["IsPrime", "FindDivisor", "CheckMany"],
      PiEstimator: ["Estimate", "EstimateWithProgress"],
      Fetcher: ["Fetch", "FetchMany"],
      Node: ["Info", "Stats"],
    });
  } finally {
    conn.close();
    await node.shutdown();
  }
});

test("a node whose workers are all busy still answers health checks and Info", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const conn = connect(target);
  const health = healthClient(target);
  const ac = new AbortController();
  try {
    const long = conn.primes.isPrime({ n: LONG_PRIME }, { signal: ac.signal, timeoutMs: 120_000 });
    long.catch(() => {});
    // Wait until the long call is really in flight on the node.
    while ((await conn.node.info({})).inFlight < 1) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) {
      const r = await call<{ status: string }>(health.check.bind(health), { service: "" });
      assert.equal(r.status, "SERVING");
    }
    const scoped = await call<{ status: string }>(health.check.bind(health), {
      service: "ferry.v1.PrimeChecker",
    });
    assert.equal(scoped.status, "SERVING");
    assert.equal((await conn.node.info({})).inFlight, 1);
    ac.abort();
    await assert.rejects(long, (err: unknown) => err instanceof RemoteError && err.code === Code.CANCELLED);
  } finally {
    health.close();
    conn.close();
    await node.shutdown();
  }
});

test("a cancelled long call frees its worker: the next call runs at once", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const conn = connect(target);
  try {
    const ac = new AbortController();
    const long = conn.primes.isPrime({ n: LONG_PRIME }, { signal: ac.signal, timeoutMs: 120_000 });
    while ((await conn.node.info({})).inFlight < 1) await new Promise((r) => setImmediate(r));
    ac.abort(new Error("user gave up"));
    await assert.rejects(long, (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.code, Code.CANCELLED);
      assert.equal((err.cause as Error).message, "user gave up");
      return true;
    });
    // With one worker, this call could only start once the cancelled computation
    // let go of it; it would need seconds more had the flag been ignored. The
    // deadline is generous yet far below what the long call had left.
    const next = await conn.primes.isPrime(
      { n: 1_000_000_007n, method: PrimeMethod.PRIME_METHOD_TRIAL_DIVISION },
      { timeoutMs: 1500 },
    );
    assert.equal(next.prime, true);
  } finally {
    conn.close();
    await node.shutdown();
  }
});

test("an already aborted signal fails fast with CANCELLED; bad timeouts are INVALID_ARGUMENT", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const conn = connect(target);
  try {
    await assert.rejects(conn.primes.isPrime({ n: 7 }, { signal: AbortSignal.abort() }), (err: unknown) => {
      return err instanceof RemoteError && err.code === Code.CANCELLED;
    });
    await assert.rejects(
      conn.primes.isPrime({ n: 7 }, { timeoutMs: -1 }),
      /timeoutMs must be a positive number/,
    );
  } finally {
    conn.close();
    await node.shutdown();
  }
});

test("unknown services and methods are UNIMPLEMENTED and the node keeps serving", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const conn = connect(target);
  const bogus = {
    nope: {
      path: "/ferry.v1.PrimeChecker/Nope",
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: Buffer) => v,
      requestDeserialize: (v: Buffer) => v,
      responseSerialize: (v: Buffer) => v,
      responseDeserialize: (v: Buffer) => v,
    },
    gone: {
      path: "/ferry.v1.Nothing/Gone",
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: Buffer) => v,
      requestDeserialize: (v: Buffer) => v,
      responseSerialize: (v: Buffer) => v,
      responseDeserialize: (v: Buffer) => v,
    },
  };
  const Raw = makeGenericClientConstructor(bogus, "Bogus");
  const raw = new Raw(target, credentials.createInsecure()) as unknown as {
    nope: Unary;
    gone: Unary;
    close(): void;
  };
  try {
    for (const fn of [raw.nope.bind(raw), raw.gone.bind(raw)]) {
      await assert.rejects(call(fn, Buffer.alloc(0)), (err: ServiceError) => err.code === Code.UNIMPLEMENTED);
    }
    assert.equal((await conn.primes.isPrime({ n: 13 })).prime, true);
  } finally {
    raw.close();
    conn.close();
    await node.shutdown();
  }
});

test("server reflection lists every service", async () => {
  const { node, target } = await startNode({ workers: 1 });
  const def = loadSync("grpc/reflection/v1/reflection.proto", {
    includeDirs: [`${ROOT}node_modules/@grpc/reflection/build/proto`],
    keepCase: true,
  });
  const pkg = loadPackageDefinition(def) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            t: string,
            c: unknown,
          ) => Record<string, () => NodeJS.ReadWriteStream> & { close(): void };
        };
      };
    };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(target, credentials.createInsecure());
  try {
    const stream = (
      client.ServerReflectionInfo as () => NodeJS.ReadWriteStream & {
        end(v?: unknown): void;
        write(v: unknown): boolean;
      }
    )();
    stream.write({ list_services: "" });
    stream.end();
    const names: string[] = [];
    for await (const message of stream as AsyncIterable<{
      list_services_response: { service: { name: string }[] };
    }>) {
      names.push(...message.list_services_response.service.map((s) => s.name));
    }
    for (const name of [
      "ferry.v1.PrimeChecker",
      "ferry.v1.PiEstimator",
      "ferry.v1.Fetcher",
      "ferry.v1.Node",
      "grpc.health.v1.Health",
    ]) {
      assert.ok(names.includes(name), `${name} missing from ${names.join(", ")}`);
    }
  } finally {
    client.close();
    await node.shutdown();
  }
});

test("shutdown lets an in-flight call finish, then leaves no open handles", async () => {
  const baseline = process.getActiveResourcesInfo().sort();
  const { node, target } = await startNode({ workers: 2 });
  const conn = connect(target);
  const running = conn.pi.estimate({ samples: 20_000_000n, seed: 1n }, { timeoutMs: 60_000 });
  while ((await conn.node.info({})).inFlight < 1) await new Promise((r) => setImmediate(r));
  const stopped = node.shutdown(30_000);
  const r = await running;
  assert.equal(r.samples, 20_000_000n);
  await stopped;
  await assert.rejects(
    conn.primes.isPrime({ n: 7 }, { timeoutMs: 2000 }),
    (err: unknown) => err instanceof RemoteError,
  );
  conn.close();
  // Sockets report their close a few event-loop turns later; no timers involved.
  // What the earlier tests left closing (an immediate, a worker's port) may go
  // meanwhile, so the check is that no kind of handle outnumbers the baseline.
  const extra = () => {
    const left = [...baseline];
    return process.getActiveResourcesInfo().filter((kind) => {
      const at = left.indexOf(kind);
      if (at === -1) return true;
      left.splice(at, 1);
      return false;
    });
  };
  for (let turn = 0; turn < 1000 && extra().length > 0; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(extra(), [], `open after shutdown, beyond the baseline ${baseline.join(", ")}`);
});

test("a node made with computeObjects: false hosts only what it is given, and Node", async () => {
  const { node, target } = await startNode({ workers: 1, computeObjects: false });
  node.expose("calc", { add: (a: number, b: number) => a + b }, { methods: ["add"] });
  const conn = connect(target);
  const health = healthClient(target);
  try {
    const info = await conn.node.info({});
    assert.deepEqual(
      info.objects.map((o) => o.name),
      ["Node"],
    );
    assert.equal(await conn.proxy<{ add(a: number, b: number): number }>("calc").add(2, 3), 5);
    await assert.rejects(
      conn.primes.isPrime({ n: 7n }),
      (err: RemoteError) => err.code === Code.UNIMPLEMENTED,
    );
    await assert.rejects(
      conn.proxy<{ isPrime(r: object): unknown }>("PrimeChecker").isPrime({ n: 7n }),
      (err: RemoteError) =>
        err.code === Code.NOT_FOUND && /objects: Node, calc|objects: calc, Node/.test(err.details),
    );
    const served = await call<{ status: string }>(health.check.bind(health), { service: "ferry.v1.Node" });
    assert.equal(served.status, "SERVING");
    await assert.rejects(
      call(health.check.bind(health), { service: "ferry.v1.PrimeChecker" }),
      (err: ServiceError) => err.code === Code.NOT_FOUND,
    );
  } finally {
    health.close();
    conn.close();
    await node.shutdown();
  }
});
