/** 2^64: the test is deterministic below this bound only. */
const LIMIT = 1n << 64n;

/**
 * Witness bases that make Miller–Rabin deterministic for every n < 3.3 * 10^24, so for all n < 2^64
 * (Sorenson and Webster, 2015).
 */
const BASES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n] as const;

/** The primes below 2^8, tried as divisors before any witness; their products with n are cheap. */
const SMALL_PRIMES: readonly bigint[] = primesBelow(256).map(BigInt);

/** 257 is the first prime not tried: a composite below its square has a prime factor below 256. */
const SMALL_PRIMES_SQUARE = 257n * 257n;

/**
 * Deterministic primality of n in [0, 2^64); RangeError outside.
 *
 * `divisor` is the smallest divisor d with 1 < d < n when it is below 256 (found by trial division);
 * `prime: false, divisor: 0n` means either n < 2 or "composite, divisor not computed" (a Miller–Rabin
 * witness proved it composite without finding a factor). A prime always has divisor 0n.
 */
export function isPrimeMillerRabin(n: bigint): { prime: boolean; divisor: bigint } {
  if (n < 0n || n >= LIMIT) throw new RangeError(`Miller–Rabin needs 0 <= n < 2^64, got ${n}`);
  if (n < 2n) return { prime: false, divisor: 0n };
  for (const p of SMALL_PRIMES) {
    if (n === p) return { prime: true, divisor: 0n };
    if (n % p === 0n) return { prime: false, divisor: p };
  }
  if (n < SMALL_PRIMES_SQUARE) return { prime: true, divisor: 0n };

  // n - 1 = odd * 2^twos
  const nMinus1 = n - 1n;
  let odd = nMinus1;
  let twos = 0;
  while ((odd & 1n) === 0n) {
    odd >>= 1n;
    twos++;
  }
  for (const base of BASES) {
    if (isWitness(base, n, nMinus1, odd, twos)) return { prime: false, divisor: 0n };
  }
  return { prime: true, divisor: 0n };
}

/** True when `base` proves odd n composite (n > every base, n - 1 = odd * 2^twos). */
function isWitness(base: bigint, n: bigint, nMinus1: bigint, odd: bigint, twos: number): boolean {
  let x = modPow(base, odd, n);
  if (x === 1n || x === nMinus1) return false;
  for (let i = 1; i < twos; i++) {
    x = (x * x) % n;
    if (x === nMinus1) return false;
    if (x === 1n) return true;
  }
  return true;
}

/** base^exponent mod modulus by left-to-right binary exponentiation (all arguments non-negative). */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  const bits = exponent.toString(2);
  const b = base % modulus;
  let result = 1n;
  for (let i = 0; i < bits.length; i++) {
    result = (result * result) % modulus;
    if (bits.charCodeAt(i) === 49 /* "1" */) result = (result * b) % modulus;
  }
  return result;
}

function primesBelow(limit: number): number[] {
  const composite = new Uint8Array(limit);
  const primes: number[] = [];
  for (let i = 2; i < limit; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j < limit; j += i) composite[j] = 1;
  }
  return primes;
}
