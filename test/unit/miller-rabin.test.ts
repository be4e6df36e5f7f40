import assert from "node:assert/strict";
import { test } from "node:test";
import { BOOK_NUMBERS, BOOK_PRIMES } from "../../src/book-numbers.js";
import { isPrimeMillerRabin } from "../../src/kernels/miller-rabin.js";
import { smallestDivisor } from "../../src/kernels/trial-division.js";

const FLUENT_PYTHON: [bigint, boolean][] = BOOK_NUMBERS.map((n) => [n, BOOK_PRIMES.has(n)]);

/** smallest[n] is n's smallest prime factor (n >= 2), by a sieve. */
function smallestPrimeFactors(limit: number): number[] {
  const smallest = new Array<number>(limit + 1).fill(0);
  for (let i = 2; i <= limit; i++) {
    if (smallest[i] !== 0) continue;
    for (let j = i; j <= limit; j += i) if (smallest[j] === 0) smallest[j] = i;
  }
  return smallest;
}

/** What isPrimeMillerRabin promises given the smallest divisor: it is reported only below 256. */
function expectedDivisor(smallest: bigint): bigint {
  return smallest < 256n ? smallest : 0n;
}

test("the Fluent Python numbers", () => {
  for (const [n, prime] of FLUENT_PYTHON) {
    assert.deepEqual(
      isPrimeMillerRabin(n),
      { prime, divisor: prime ? 0n : expectedDivisor(smallestDivisor(n)) },
      `${n}`,
    );
  }
  assert.deepEqual(isPrimeMillerRabin(9999999999999999n), { prime: false, divisor: 3n });
  // 57735047 is beyond the small primes, so a witness decides and no divisor is computed.
  assert.deepEqual(isPrimeMillerRabin(3333335652092209n), { prime: false, divisor: 0n });
});

test("0..10000 against a sieve, with the smallest divisor of every composite", () => {
  const smallest = smallestPrimeFactors(10000);
  for (let i = 0; i <= 10000; i++) {
    const prime = i >= 2 && smallest[i] === i;
    const divisor = i < 2 || prime ? 0n : BigInt(smallest[i] ?? 0);
    assert.deepEqual(isPrimeMillerRabin(BigInt(i)), { prime, divisor }, `${i}`);
  }
});

test("strong pseudoprimes to the first bases are found composite", () => {
  // Each is the least strong pseudoprime to all prime bases up to the one named.
  const pseudoprimes = [
    2047n, // base 2; 23 * 89
    1373653n, // 2, 3; 829 * 1657
    25326001n, // 2, 3, 5; 2251 * 11251
    3215031751n, // 2, 3, 5, 7; 151 * 751 * 28351
    2152302898747n, // up to 11
    3474749660383n, // up to 13
    341550071728321n, // up to 17 (also 19)
    3825123056546413051n, // up to 23 (also 29, 31); 149491 * 747451 * 34233211
  ];
  for (const n of pseudoprimes) {
    assert.deepEqual(
      isPrimeMillerRabin(n),
      { prime: false, divisor: expectedDivisor(smallestDivisor(n)) },
      `${n}`,
    );
  }
  assert.deepEqual(isPrimeMillerRabin(3215031751n), { prime: false, divisor: 151n });
  assert.deepEqual(isPrimeMillerRabin(3825123056546413051n), { prime: false, divisor: 0n });
});

test("Carmichael numbers are found composite", () => {
  assert.deepEqual(isPrimeMillerRabin(561n), { prime: false, divisor: 3n });
  assert.deepEqual(isPrimeMillerRabin(41041n), { prime: false, divisor: 7n });
  assert.deepEqual(isPrimeMillerRabin(340561n), { prime: false, divisor: 13n });
  // (6k+1)(12k+1)(18k+1) with k = 45: every factor is above 256, so a witness must decide.
  assert.deepEqual(isPrimeMillerRabin(271n * 541n * 811n), { prime: false, divisor: 0n });
});

test("near 2^64", () => {
  assert.deepEqual(isPrimeMillerRabin(18446744073709551557n), { prime: true, divisor: 0n });
  assert.deepEqual(isPrimeMillerRabin((1n << 64n) - 1n), { prime: false, divisor: 3n });
  assert.deepEqual(isPrimeMillerRabin((1n << 64n) - 2n), { prime: false, divisor: 2n });
  assert.deepEqual(isPrimeMillerRabin(4294967291n * 4294967279n), { prime: false, divisor: 0n });
  assert.deepEqual(isPrimeMillerRabin(4294967291n * 4294967291n), { prime: false, divisor: 0n });
  assert.deepEqual(isPrimeMillerRabin(4294967291n), { prime: true, divisor: 0n });
  assert.deepEqual(isPrimeMillerRabin(2147483647n), { prime: true, divisor: 0n });
  assert.deepEqual(isPrimeMillerRabin(2305843009213693951n), { prime: true, divisor: 0n }); // 2^61 - 1
});

test("agrees with trial division on pseudo-random numbers below 2^40", () => {
  let x = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < 300; i++) {
    // 64-bit LCG (Knuth's MMIX constants); the high bits are the random ones.
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    const n = (x >> 24n) | 1n;
    const divisor = smallestDivisor(n);
    assert.deepEqual(
      isPrimeMillerRabin(n),
      { prime: divisor === 0n, divisor: expectedDivisor(divisor) },
      `${n}`,
    );
  }
});

test("RangeError outside [0, 2^64)", () => {
  assert.throws(() => isPrimeMillerRabin(-1n), RangeError);
  assert.throws(() => isPrimeMillerRabin(1n << 64n), RangeError);
});
