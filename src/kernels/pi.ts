import { type CancelFlag, throwIfCancelled } from "./cancel.js";
import { compileFunction, I32, I64, OP, sleb, VOID } from "./wasm-module.js";

/**
 * Samples per block. Samples are numbered from 0 within a job; sample i belongs to block
 * floor(i / PI_BLOCK_SAMPLES) and is drawn from that block's own random stream, so any split of a job
 * into runs of whole blocks counts the same points.
 */
export const PI_BLOCK_SAMPLES = 1 << 20;

const UINT64_LIMIT = 1n << 64n;
const MASK64 = UINT64_LIMIT - 1n;

/** splitmix64's increment (the golden ratio times 2^64, odd). */
const SPLITMIX_GAMMA = 0x9e3779b97f4a7c15n;

/**
 * Odd multiplier spreading block numbers over the splitmix64 state space. It is not a small multiple of
 * the increment, so the splitmix64 outputs that seed different blocks of one seed do not overlap.
 */
const BLOCK_SPREAD = 0xd1b54a32d192ed03n;

/**
 * Exact test of u^2 + v^2 < 2^64 for u, v < 2^32 without 64-bit integers: the double sum u*u + v*v is
 * within 2^12 of the true value (three roundings of at most 2^10, 2^10 and 2^11), so outside this window
 * around 2^64 its comparison is exact and only the rare samples inside it need integer arithmetic.
 */
const NEAR_LOW = 2 ** 64 - 2 ** 16;
const NEAR_HIGH = 2 ** 64 + 2 ** 16;

/**
 * Counts points inside the quarter circle for samples [startBlock * PI_BLOCK_SAMPLES,
 * startBlock * PI_BLOCK_SAMPLES + samples) of the stream `seed`.
 *
 * The contract (also summarised in proto/ferry/v1/pi.proto), so that any implementation, in any language,
 * gets the same count for the same (seed, samples):
 * - Block k (from 0) is drawn from xoshiro128** whose state words s0..s3 come from splitmix64 started at
 *   state `seed XOR (k * 0xd1b54a32d192ed03 mod 2^64)`: its first output gives s0 (low 32 bits) and s1
 *   (high 32 bits), its second gives s2 and s3. The state is never all zero: splitmix64's output function is
 *   a bijection and its two inputs differ, so the two outputs are not both zero.
 * - Each sample takes two consecutive 32-bit outputs u then v and is inside when (u/2^32)^2 + (v/2^32)^2 < 1,
 *   evaluated exactly (u^2 + v^2 < 2^64 in integers); see {@link isInsideQuarterCircle}.
 * - Every block has PI_BLOCK_SAMPLES samples except the last block of a job, which may be partial. So
 *   `samples` that is not a multiple of the block size is only meaningful for a run that ends the job.
 *
 * `seed` must be in [0, 2^64), `startBlock` and `samples` non-negative safe integers (RangeError otherwise).
 * Checks `flag` before each block and throws CancelledError once it is raised (a block takes a few ms).
 */
export function countInside(seed: bigint, startBlock: number, samples: number, flag?: CancelFlag): number {
  if (seed < 0n || seed >= UINT64_LIMIT) throw new RangeError(`seed must be in [0, 2^64), got ${seed}`);
  if (!Number.isSafeInteger(startBlock) || startBlock < 0) {
    throw new RangeError(`startBlock must be a non-negative integer, got ${startBlock}`);
  }
  if (!Number.isSafeInteger(samples) || samples < 0) {
    throw new RangeError(`samples must be a non-negative integer, got ${samples}`);
  }
  let inside = 0;
  for (let block = startBlock, left = samples; left > 0; block++, left -= PI_BLOCK_SAMPLES) {
    throwIfCancelled(flag);
    const state = blockState(seed, block);
    inside += countBlock(state[0], state[1], state[2], state[3], Math.min(left, PI_BLOCK_SAMPLES));
  }
  return inside;
}

/**
 * The estimate from a count: pi = 4 * inside / samples, and its standard error 4 * sqrt(p(1 - p) / samples)
 * with p = inside / samples. Zero samples give NaN for both (no estimate yet); RangeError when inside is
 * negative or above samples.
 */
export function estimateFromCounts(inside: bigint, samples: bigint): { pi: number; stderr: number } {
  if (samples < 0n || inside < 0n || inside > samples) {
    throw new RangeError(`need 0 <= inside <= samples, got inside=${inside} samples=${samples}`);
  }
  if (samples === 0n) return { pi: Number.NaN, stderr: Number.NaN };
  const n = Number(samples);
  const p = Number(inside) / n;
  return { pi: 4 * p, stderr: 4 * Math.sqrt((p * (1 - p)) / n) };
}

/**
 * The per-sample predicate of the contract: whether (u, v), two 32-bit outputs read as fractions of 2^32,
 * falls strictly inside the unit quarter circle, i.e. u^2 + v^2 < 2^64 exactly.
 */
export function isInsideQuarterCircle(u: number, v: number): boolean {
  const sum = u * u + v * v;
  if (sum < NEAR_LOW) return true;
  return sum < NEAR_HIGH && insideNearBoundary(u, v);
}

/** The exact comparison for the rare sums near 2^64 that doubles cannot settle. */
function insideNearBoundary(u: number, v: number): boolean {
  const bu = BigInt(u);
  const bv = BigInt(v);
  return bu * bu + bv * bv < UINT64_LIMIT;
}

/** xoshiro128** state for block `block` of stream `seed`, as four int32 words. */
function blockState(seed: bigint, block: number): [number, number, number, number] {
  let state = seed ^ ((BigInt(block) * BLOCK_SPREAD) & MASK64);
  state = (state + SPLITMIX_GAMMA) & MASK64;
  const first = splitmixOutput(state);
  state = (state + SPLITMIX_GAMMA) & MASK64;
  const second = splitmixOutput(state);
  return [
    Number(BigInt.asIntN(32, first)),
    Number(BigInt.asIntN(32, first >> 32n)),
    Number(BigInt.asIntN(32, second)),
    Number(BigInt.asIntN(32, second >> 32n)),
  ];
}

/** splitmix64's output function (Steele, Lea and Flood), a bijection on 64-bit values. */
function splitmixOutput(state: bigint): bigint {
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

// The hot loop in WebAssembly: xoshiro128** on i32 locals, and the inside test
// in exact integers. With u, v < 2^32, u^2 and v^2 fit an unsigned i64, and
// u^2 + v^2 < 2^64 exactly when their unsigned sum does not wrap, i.e. when
// (u^2 + v^2 mod 2^64) >= u^2. No doubles, no rare slow path, and a speed
// that does not hang on how the JIT happened to compile a JavaScript loop
// (measured here: 150 or 210 M samples/s for the same loop, thread by thread).

/** Locals of the count function: parameters s0..s3, count; then i, inside, t (i32) and square, u2 (i64). */
const [S0, S1, S2, S3, COUNT, I, INSIDE, T, SQUARE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const U2 = 9;

/** Pushes the next 32-bit output, rotl(s1 * 5, 7) * 9, zero-extended to i64 and squared, into local SQUARE. */
const nextSquared = [
  ...[OP.localGet, S1, OP.i32Const, ...sleb(5), OP.i32Mul, OP.i32Const, ...sleb(7), OP.i32Rotl],
  ...[
    OP.i32Const,
    ...sleb(9),
    OP.i32Mul,
    OP.i64ExtendI32U,
    OP.localTee,
    SQUARE,
    OP.localGet,
    SQUARE,
    OP.i64Mul,
  ],
];

/** xoshiro128**'s state update: t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11). */
const advance = [
  ...[OP.localGet, S1, OP.i32Const, ...sleb(9), OP.i32Shl, OP.localSet, T],
  ...[OP.localGet, S2, OP.localGet, S0, OP.i32Xor, OP.localSet, S2],
  ...[OP.localGet, S3, OP.localGet, S1, OP.i32Xor, OP.localSet, S3],
  ...[OP.localGet, S1, OP.localGet, S2, OP.i32Xor, OP.localSet, S1],
  ...[OP.localGet, S0, OP.localGet, S3, OP.i32Xor, OP.localSet, S0],
  ...[OP.localGet, S2, OP.localGet, T, OP.i32Xor, OP.localSet, S2],
  ...[OP.localGet, S3, OP.i32Const, ...sleb(11), OP.i32Rotl, OP.localSet, S3],
];

const countBody = [
  ...[OP.block, VOID, OP.loop, VOID],
  // while i < count (label 1: leave the block)
  ...[OP.localGet, I, OP.localGet, COUNT, OP.i32GeU, OP.brIf, 1],
  // u2 = u * u, then advance
  ...nextSquared,
  ...[OP.localSet, U2],
  ...advance,
  // inside += (v * v + u2 >= u2), unsigned: no wrap past 2^64
  ...nextSquared,
  ...[OP.localGet, U2, OP.i64Add, OP.localGet, U2, OP.i64GeU],
  ...[OP.localGet, INSIDE, OP.i32Add, OP.localSet, INSIDE],
  ...advance,
  // i += 1; continue
  ...[OP.localGet, I, OP.i32Const, ...sleb(1), OP.i32Add, OP.localSet, I, OP.br, 0],
  ...[OP.end, OP.end],
  ...[OP.localGet, INSIDE],
];

/**
 * Draws `count` samples from xoshiro128** with state (a, b, c, d), int32 words, and counts those inside.
 */
const countBlock = compileFunction({
  name: "count",
  params: [I32, I32, I32, I32, I32],
  results: [I32],
  locals: [
    [3, I32],
    [2, I64],
  ],
  body: countBody,
}) as (a: number, b: number, c: number, d: number, count: number) => number;
