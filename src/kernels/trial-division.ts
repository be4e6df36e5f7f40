import { type CancelFlag, throwIfCancelled } from "./cancel.js";
import { isqrt } from "./isqrt.js";
import { compileFunction, I64, OP, sleb, VOID } from "./wasm-module.js";

/** 2^64: trial division here works on unsigned 64-bit integers only. */
const LIMIT = 1n << 64n;

/**
 * Odd divisors tried per call into WebAssembly. The cancel flag is checked between calls, so this sets
 * how quickly a raised flag is noticed: 2^20 divisors take about 2 ms on the development machine.
 */
const CHUNK_DIVISORS = 1 << 20;

/** Same role for the BigInt reference, which is slower per divisor. */
const BIGINT_CHUNK_DIVISORS = 1 << 16;

/**
 * Smallest divisor d with 1 < d < n when n is composite; 0n when n is prime and also when n < 2 (0 and 1
 * are neither prime nor have such a divisor, so use {@link isPrimeByTrialDivision} to tell them apart).
 * Exact for every n in [0, 2^64); RangeError outside. Tries 2, then odd divisors up to isqrt(n) in
 * WebAssembly, checking `flag` every {@link CHUNK_DIVISORS} divisors and throwing CancelledError once it
 * is raised. The worst case (a prime near 2^64) tries about 2^31 divisors and takes about 4 s.
 */
export function smallestDivisor(n: bigint, flag?: CancelFlag): bigint {
  checkRange(n);
  throwIfCancelled(flag);
  if (n < 4n) return 0n;
  if ((n & 1n) === 0n) return 2n;
  const last = lastOddCandidate(n);
  // The wasm parameter is a signed i64: n >= 2^63 must be passed as its two's-complement image.
  const nI64 = BigInt.asIntN(64, n);
  for (let from = 3; from <= last; ) {
    const to = Math.min(from + 2 * (CHUNK_DIVISORS - 1), last);
    const found = scan(nI64, BigInt(from), BigInt(to));
    if (found !== 0n) return BigInt.asUintN(64, found);
    from = to + 2;
    throwIfCancelled(flag);
  }
  return 0n;
}

/**
 * Smallest odd d in [from, to] that divides n, or 0n when none does: one range of a trial division split
 * across workers or nodes. `from` is odd and at least 3, `to` below 2^32 (RangeError otherwise); the range
 * is cut at isqrt(n), past which no smallest divisor lies. Polls `flag` like {@link smallestDivisor}.
 */
export function smallestDivisorInRange(n: bigint, from: bigint, to: bigint, flag?: CancelFlag): bigint {
  checkRange(n);
  if (from < 3n || (from & 1n) === 0n) throw new RangeError(`from must be odd and at least 3, got ${from}`);
  if (to >= 1n << 32n) throw new RangeError(`to must be below 2^32, got ${to}`);
  throwIfCancelled(flag);
  if (n < 4n) return 0n;
  const root = BigInt(lastOddCandidate(n));
  const last = Number(to < root ? ((to & 1n) === 0n ? to - 1n : to) : root);
  const nI64 = BigInt.asIntN(64, n);
  for (let start = Number(from); start <= last; ) {
    const end = Math.min(start + 2 * (CHUNK_DIVISORS - 1), last);
    const found = scan(nI64, BigInt(start), BigInt(end));
    if (found !== 0n) return BigInt.asUintN(64, found);
    start = end + 2;
    throwIfCancelled(flag);
  }
  return 0n;
}

/**
 * Primality by trial division: `prime` is n >= 2 with no divisor found; `divisor` is the smallest divisor
 * d with 1 < d < n for a composite, else 0n. Same range, cost and cancellation as {@link smallestDivisor}.
 */
export function isPrimeByTrialDivision(n: bigint, flag?: CancelFlag): { prime: boolean; divisor: bigint } {
  const divisor = smallestDivisor(n, flag);
  return { prime: n >= 2n && divisor === 0n, divisor };
}

/**
 * The same contract as {@link smallestDivisor} computed with plain BigInt arithmetic. A slower reference
 * implementation for cross-checking the WebAssembly kernel in tests and benchmarks.
 */
export function smallestDivisorBigInt(n: bigint, flag?: CancelFlag): bigint {
  checkRange(n);
  throwIfCancelled(flag);
  if (n < 4n) return 0n;
  if ((n & 1n) === 0n) return 2n;
  const last = BigInt(lastOddCandidate(n));
  let sinceCheck = 0;
  for (let d = 3n; d <= last; d += 2n) {
    if (n % d === 0n) return d;
    if (++sinceCheck === BIGINT_CHUNK_DIVISORS) {
      sinceCheck = 0;
      throwIfCancelled(flag);
    }
  }
  return 0n;
}

function checkRange(n: bigint): void {
  if (n < 0n || n >= LIMIT) throw new RangeError(`trial division needs 0 <= n < 2^64, got ${n}`);
}

/** The largest odd number <= isqrt(n); below 2^32 for n < 2^64, so a safe JS number. */
function lastOddCandidate(n: bigint): number {
  const root = Number(isqrt(n));
  return root % 2 === 0 ? root - 1 : root;
}

// ---------------------------------------------------------------------------------------------------------
// The WebAssembly kernel, assembled here from bytes so there is no build step and no binary file.
//
// (func (export "scan") (param $n i64) (param $from i64) (param $to i64) (result i64)
// Returns the first d in from, from+2, ..., to (from and to odd, to < 2^32) that divides n, or 0.
// n is read as unsigned (i64.rem_u), so values >= 2^63 passed as negative i64 are handled exactly.
// The bound comes precomputed from JS, so the loop has no d * d <= n test. The loop is bound by the CPU's
// divider (about 2 ns per divisor on the development machine, against about 7 ns for BigInt); it tries two
// divisors per iteration to halve the loop test, though unrolling 1, 2, 4 or 8 ways measured the same.

/** Local indices: the three parameters, then one declared local. */
const N = 0;
const FROM = 1;
const TO = 2;
const D = 3;

/** `if (n % d == 0) return d + offset` for the given local d and constant offset. */
function returnIfDivides(offset: number): number[] {
  const candidate =
    offset === 0 ? [OP.localGet, D] : [OP.localGet, D, OP.i64Const, ...sleb(offset), OP.i64Add];
  return [
    ...[OP.localGet, N, ...candidate, OP.i64RemU, OP.i64Eqz],
    ...[OP.if, VOID, ...candidate, OP.return, OP.end],
  ];
}

const scanBody: number[] = [
  // d = from
  ...[OP.localGet, FROM, OP.localSet, D],
  ...[OP.block, VOID, OP.loop, VOID],
  // while d < to, so d and d + 2 are both in range (label 1 is the enclosing block: break)
  ...[OP.localGet, D, OP.localGet, TO, OP.i64GeU, OP.brIf, 1],
  ...returnIfDivides(0),
  ...returnIfDivides(2),
  // d += 4; continue (label 0 is the loop)
  ...[OP.localGet, D, OP.i64Const, ...sleb(4), OP.i64Add, OP.localSet, D, OP.br, 0],
  ...[OP.end, OP.end],
  // an odd count of candidates leaves d == to untried
  ...[OP.localGet, D, OP.localGet, TO, OP.i64LeU, OP.if, VOID, ...returnIfDivides(0), OP.end],
  ...[OP.i64Const, ...sleb(0)],
];

/** The compiled kernel. */
const scan = compileFunction({
  name: "scan",
  params: [I64, I64, I64],
  results: [I64],
  locals: [[1, I64]],
  body: scanBody,
}) as (n: bigint, from: bigint, to: bigint) => bigint;
