import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { connect, type NodeConnection } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { PrimeCheckerService, PrimeMethod } from "../../src/gen/ferry/v1/prime.js";
import { BOOK_NUMBERS, BOOK_PRIMES, smallestDivisorSlow, startNode } from "../helpers.js";

let node: FerryNode;
let target: string;
let conn: NodeConnection;

before(async () => {
  ({ node, target } = await startNode({ workers: 2 }));
  conn = connect(target);
});

after(async () => {
  conn.close();
  await node.shutdown();
});

const EXPECTED_DIVISORS = new Map(
  BOOK_NUMBERS.map((n) => [n, BOOK_PRIMES.has(n) ? 0n : smallestDivisorSlow(n)]),
);

for (const method of [PrimeMethod.PRIME_METHOD_TRIAL_DIVISION, PrimeMethod.PRIME_METHOD_MILLER_RABIN]) {
  test(`the book's 20 numbers by ${PrimeMethod[method]}`, async () => {
    const primes = conn.service(PrimeCheckerService);
    const results = await Promise.all(
      BOOK_NUMBERS.map((n) => primes.isPrime({ n, method }, { timeoutMs: 20_000 })),
    );
    for (const [i, r] of results.entries()) {
      const n = BOOK_NUMBERS[i] as bigint;
      assert.equal(r.n, n);
      assert.equal(r.prime, BOOK_PRIMES.has(n), `${n}`);
      assert.equal(r.method, method);
      if (method === PrimeMethod.PRIME_METHOD_TRIAL_DIVISION)
        assert.equal(r.divisor, EXPECTED_DIVISORS.get(n), `${n}`);
      else if (r.divisor !== 0n) assert.equal(r.divisor, EXPECTED_DIVISORS.get(n), `${n}`);
      assert.ok(r.elapsedSeconds >= 0);
    }
  });
}

test("unspecified method runs trial division; n may be a string or number", async () => {
  const r = await conn.primes.isPrime({ n: "4444444444444444" });
  assert.equal(r.method, PrimeMethod.PRIME_METHOD_TRIAL_DIVISION);
  assert.deepEqual([r.prime, r.divisor], [false, 2n]);
  const small = await conn.primes.isPrime({ n: 97 });
  assert.equal(small.prime, true);
  const zero = await conn.primes.isPrime({ n: 0 });
  assert.deepEqual([zero.prime, zero.divisor], [false, 0n]);
});

test("the largest 64-bit numbers are answered exactly", async () => {
  const largestPrime = 18446744073709551557n;
  const mr = await conn.primes.isPrime({ n: largestPrime, method: PrimeMethod.PRIME_METHOD_MILLER_RABIN });
  assert.equal(mr.n, largestPrime);
  assert.equal(mr.prime, true);
  const max = await conn.primes.isPrime({ n: 2n ** 64n - 1n });
  assert.deepEqual([max.prime, max.divisor], [false, 3n]);
});

test("bad n is INVALID_ARGUMENT naming the field, and the node keeps serving", async () => {
  const cases: [unknown, RegExp][] = [
    [-1n, /n: must not be negative/],
    [-7, /n: must not be negative/],
    [1.5, /n: must be a non-negative integer/],
    ["abc", /n: must be a non-negative decimal integer/],
    [2n ** 64n, /n: must be below 2\^64/],
    ["18446744073709551616", /n: must be below 2\^64/],
    [2 ** 60, /n: .* send it as a string/],
  ];
  for (const [n, pattern] of cases) {
    await assert.rejects(conn.primes.isPrime({ n: n as bigint }), (err: unknown) => {
      assert.ok(err instanceof RemoteError, `n=${String(n)}: ${String(err)}`);
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.equal(err.field, "n");
      assert.match(err.details, pattern);
      return true;
    });
  }
  await assert.rejects(
    conn.primes.isPrime({ n: 7, bogus: 1 } as never),
    /bogus: unknown field of IsPrimeRequest/,
  );
  assert.equal((await conn.primes.isPrime({ n: 7 })).prime, true);
});

test("an unknown method number from a raw client is INVALID_ARGUMENT from the node", async () => {
  const Raw = makeGenericClientConstructor(PrimeCheckerService, "PrimeChecker");
  const raw = new Raw(target, credentials.createInsecure()) as unknown as {
    isPrime(req: unknown, md: Metadata, opts: object, cb: (e: ServiceError | null, r: unknown) => void): void;
    close(): void;
  };
  const err = await new Promise<ServiceError | null>((resolve) =>
    raw.isPrime({ n: 7n, method: 9 }, new Metadata(), { deadline: Date.now() + 5000 }, (e) => resolve(e)),
  );
  raw.close();
  assert.equal(err?.code, Code.INVALID_ARGUMENT);
  assert.match(err?.details ?? "", /method: unknown PrimeMethod 9/);
});

test("CheckMany streams a result for every number, tied by index", async () => {
  const numbers = [...BOOK_NUMBERS, 1n, 3n, 1_000_000_007n];
  async function* requests() {
    for (const n of numbers) yield { n, method: PrimeMethod.PRIME_METHOD_MILLER_RABIN };
  }
  const seen = new Map<number, boolean>();
  for await (const r of conn.primes.checkMany(requests(), { timeoutMs: 20_000 })) {
    assert.ok(r.result);
    assert.equal(r.result.n, numbers[r.index]);
    seen.set(r.index, r.result.prime);
  }
  assert.equal(seen.size, numbers.length);
  for (const [i, n] of numbers.entries()) {
    const expected = BOOK_PRIMES.has(n) || n === 3n || n === 1_000_000_007n;
    assert.equal(seen.get(i), expected, `${n}`);
  }
});

test("CheckMany with an invalid number fails the stream with the field named", async () => {
  const stream = conn.primes.checkMany([{ n: 7 }, { n: -3 }]);
  await assert.rejects(
    (async () => {
      for await (const _ of stream) {
        // drain
      }
    })(),
    (err: unknown) =>
      err instanceof RemoteError &&
      err.code === Code.INVALID_ARGUMENT &&
      /n: must not be negative/.test(err.details),
  );
});
