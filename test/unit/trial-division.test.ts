import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { BOOK_NUMBERS, BOOK_PRIMES } from "../../src/book-numbers.js";
import { type CancelFlag, CancelledError, cancel, createCancelFlag } from "../../src/kernels/cancel.js";
import {
  isPrimeByTrialDivision,
  smallestDivisor,
  smallestDivisorBigInt,
} from "../../src/kernels/trial-division.js";

/** The numbers of Fluent Python's process-pool example, with their primality. */
const FLUENT_PYTHON: [bigint, boolean][] = BOOK_NUMBERS.map((n) => [n, BOOK_PRIMES.has(n)]);

/** The largest prime below 2^64: trial division would take seconds, so it serves as a long-running call. */
const LARGEST_PRIME_BELOW_2_64 = 18446744073709551557n;

/** smallest[n] is n's smallest prime factor (n >= 2), by a sieve. */
function smallestPrimeFactors(limit: number): number[] {
  const smallest = new Array<number>(limit + 1).fill(0);
  for (let i = 2; i <= limit; i++) {
    if (smallest[i] !== 0) continue;
    for (let j = i; j <= limit; j += i) if (smallest[j] === 0) smallest[j] = i;
  }
  return smallest;
}

/** Starts a thread that raises `flag` after `ms` milliseconds, while this thread is busy. */
function raiseFromAnotherThread(flag: CancelFlag, ms: number): Worker {
  const code = `const { workerData } = require("node:worker_threads");
setTimeout(() => Atomics.store(workerData, 0, 1), ${ms});`;
  return new Worker(code, { eval: true, workerData: flag });
}

test("the Fluent Python numbers: primality, and composites' smallest divisor matches the BigInt reference", () => {
  for (const [n, prime] of FLUENT_PYTHON) {
    const result = isPrimeByTrialDivision(n);
    assert.equal(result.prime, prime, `${n}`);
    if (prime) {
      assert.equal(result.divisor, 0n, `${n}`);
    } else {
      assert.ok(result.divisor > 1n && result.divisor < n, `${n}`);
      assert.equal(n % result.divisor, 0n, `${n}`);
      assert.equal(result.divisor, smallestDivisorBigInt(n), `${n}`);
    }
  }
});

test("known smallest divisors of the Fluent Python composites", () => {
  assert.equal(smallestDivisor(3333335652092209n), 57735047n);
  assert.equal(smallestDivisor(4444444488888889n), 66666667n);
  assert.equal(smallestDivisor(5555553133149889n), 74535583n);
  assert.equal(smallestDivisor(6666667141414921n), 81649661n);
  assert.equal(smallestDivisor(7777777536340681n), 88191709n);
  assert.equal(smallestDivisor(7777777777777777n), 7n);
});

test("0..1000 against a sieve, for the wasm kernel and the BigInt reference", () => {
  const smallest = smallestPrimeFactors(1000);
  for (let i = 0; i <= 1000; i++) {
    const n = BigInt(i);
    const prime = i >= 2 && smallest[i] === i;
    const expected = i < 2 || prime ? 0n : BigInt(smallest[i] ?? 0);
    assert.equal(smallestDivisor(n), expected, `${i}`);
    assert.equal(smallestDivisorBigInt(n), expected, `${i}`);
    assert.deepEqual(isPrimeByTrialDivision(n), { prime, divisor: expected }, `${i}`);
  }
});

test("0 and 1 are not prime and have no divisor", () => {
  assert.deepEqual(isPrimeByTrialDivision(0n), { prime: false, divisor: 0n });
  assert.deepEqual(isPrimeByTrialDivision(1n), { prime: false, divisor: 0n });
});

test("squares of primes: the divisor is exactly the square root, the last candidate", () => {
  for (const p of [3n, 1000003n, 2097143n, 2097169n, 4294967291n]) {
    assert.equal(smallestDivisor(p * p), p, `${p}^2`);
  }
});

test("n >= 2^63 (negative as a signed i64) with divisors in the first and later chunks", () => {
  // p * q with p prime, q a larger prime; 2097143 and 2097169 straddle the end of the first 2^20 odd divisors.
  const cases: [bigint, bigint][] = [
    [1000003n, 9223344379177n],
    [2097143n, 4398065397919n],
    [2097169n, 4398010872163n],
    [4194319n, 2199015403619n],
  ];
  for (const [p, q] of cases) {
    const n = p * q;
    assert.ok(n >= 1n << 63n && n < 1n << 64n);
    assert.equal(smallestDivisor(n), p, `${n}`);
    assert.equal(smallestDivisorBigInt(n), p, `${n}`);
  }
});

test("composites near 2^64", () => {
  const max = (1n << 64n) - 1n; // 3 * 5 * 17 * 257 * 641 * 65537 * 6700417
  assert.equal(smallestDivisor(max), 3n);
  assert.equal(smallestDivisor(max - 1n), 2n);
  assert.equal(smallestDivisor(max / 3n), 5n);
  assert.equal(smallestDivisor(max / (3n * 5n * 17n * 257n)), 641n);
  assert.equal(smallestDivisor(641n * 65537n * 6700417n), 641n);
  assert.equal(smallestDivisor(65537n * 6700417n), 65537n);
  assert.equal(smallestDivisor(3825123056546413051n), 149491n);
  assert.equal(smallestDivisorBigInt(3825123056546413051n), 149491n);
});

test("RangeError outside [0, 2^64)", () => {
  for (const f of [smallestDivisor, smallestDivisorBigInt, isPrimeByTrialDivision]) {
    assert.throws(() => f(-1n), RangeError);
    assert.throws(() => f(1n << 64n), RangeError);
  }
});

test("a flag raised by a timer before the call stops it with CancelledError", async () => {
  const flag = createCancelFlag();
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      cancel(flag);
      resolve();
    }, 5),
  );
  assert.throws(() => smallestDivisor(LARGEST_PRIME_BELOW_2_64, flag), CancelledError);
  assert.throws(() => smallestDivisorBigInt(LARGEST_PRIME_BELOW_2_64, flag), CancelledError);
});

test("a flag raised by another thread stops a running call with CancelledError", async () => {
  for (const f of [smallestDivisor, smallestDivisorBigInt]) {
    const flag = createCancelFlag();
    const worker = raiseFromAnotherThread(flag, 50);
    try {
      assert.throws(() => f(LARGEST_PRIME_BELOW_2_64, flag), CancelledError);
    } finally {
      await once(worker, "exit");
    }
  }
});

test("a lowered flag changes nothing", () => {
  const flag = createCancelFlag();
  assert.equal(smallestDivisor(9999999999999999n, flag), 3n);
  assert.equal(smallestDivisor(142702110479723n, flag), 0n);
});
