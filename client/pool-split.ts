import type { MethodDefinition } from "../src/contract.js";
import type { EstimateResponse } from "../src/gen/ferry/v1/pi.js";
import { PiEstimatorService } from "../src/gen/ferry/v1/pi.js";
import { type IsPrimeResponse, PrimeCheckerService, PrimeMethod } from "../src/gen/ferry/v1/prime.js";
import { isqrt } from "../src/kernels/isqrt.js";
import { estimateFromCounts, PI_BLOCK_SAMPLES } from "../src/kernels/pi.js";
import { UINT64_LIMIT } from "../src/uint64.js";
import type { Completion, MapOptions, PoolInput } from "./map-options.js";

/** What splitting needs of a pool. */
export interface SplitPool {
  ready(): Promise<void>;
  readonly slots: number;
  map<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<Req>,
    options?: MapOptions,
  ): Promise<Res[]>;
  imap<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<Req>,
    options?: MapOptions,
  ): AsyncGenerator<Res>;
  completions<Req, Res>(
    method: MethodDefinition<Req, Res>,
    items: PoolInput<Req>,
    options?: MapOptions,
  ): AsyncGenerator<Completion<Res>>;
  submit<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: MapOptions): Promise<Res>;
}

/** Options of {@link splitEstimatePi}: a map's, and a report of each range as it is counted. */
export interface PiOptions extends MapOptions {
  /** Called as each range is answered: samples counted so far, of the whole, and the node. */
  onProgress?: (doneSamples: bigint, totalSamples: bigint, node: string) => void;
}

/** Ranges per slot a split job is cut into: enough that the tail is short and a slow node's share small. */
const RANGES_PER_SLOT = 8;

/**
 * Most pi blocks in one range (2^30 samples, about 3 s on one worker): a long
 * job is more ranges, never longer ones, so each range fits a call's
 * deadline and stays far below a node's maxSamples whatever the job's size.
 */
const MAX_RANGE_BLOCKS = 1024n;

/**
 * Monte Carlo pi over every slot of the pool: the samples are cut into
 * ranges of whole blocks, each range an Estimate from its first block on,
 * and the counts are added. Blocks fix the random streams, so the answer for
 * a (samples, seed) is the same with one node or ten, and the same as one
 * unsplit Estimate.
 */
export async function splitEstimatePi(
  pool: SplitPool,
  request: { samples: bigint | number; seed?: bigint | number },
  options: PiOptions = {},
): Promise<EstimateResponse> {
  const samples = toUint64(request.samples, "samples");
  const seed = toUint64(request.seed ?? 0, "seed");
  if (samples === 0n) throw new RangeError("samples must be at least 1");
  const started = performance.now();
  await pool.ready();
  const block = BigInt(PI_BLOCK_SAMPLES);
  const blocks = (samples + block - 1n) / block;
  const bySlots = BigInt(Math.max(1, pool.slots * RANGES_PER_SLOT));
  const bySize = (blocks + MAX_RANGE_BLOCKS - 1n) / MAX_RANGE_BLOCKS;
  const wanted = bySlots > bySize ? bySlots : bySize;
  const ranges = blocks < wanted ? blocks : wanted;
  const perRange = (blocks + ranges - 1n) / ranges;
  const requests: { samples: bigint; seed: bigint; firstBlock: bigint }[] = [];
  for (let first = 0n; first < blocks; first += perRange) {
    const end = first + perRange < blocks ? (first + perRange) * block : samples;
    requests.push({ samples: end - first * block, seed, firstBlock: first });
  }
  const { onProgress, ...mapOptions } = options;
  let inside = 0n;
  let total = 0n;
  const answers = pool.completions(PiEstimatorService.estimate, requests, { chunkSize: 1, ...mapOptions });
  for await (const c of answers) {
    if (!c.ok) throw c.error;
    inside += c.value.inside;
    total += c.value.samples;
    onProgress?.(total, samples, c.node);
  }
  const { pi, stderr } = estimateFromCounts(inside, total);
  return { pi, inside, samples: total, stderr, elapsedSeconds: (performance.now() - started) / 1000, seed };
}

/** Numbers below this are checked by one call: splitting would cost more than it saves. */
const SPLIT_ABOVE = 1n << 40n;

/**
 * Trial division of one number over every slot of the pool: its odd
 * candidates up to isqrt(n) are cut into ranges, tried in order of size
 * (FindDivisor), and as soon as every range below a found divisor has
 * answered, the ranges above are cancelled on their nodes. The answer is the
 * smallest divisor, exactly as one IsPrime would give.
 */
export async function splitIsPrime(
  pool: SplitPool,
  request: { n: bigint | number | string },
  options: MapOptions = {},
): Promise<IsPrimeResponse> {
  const n = toUint64(request.n, "n");
  const started = performance.now();
  const answer = (prime: boolean, divisor: bigint): IsPrimeResponse => ({
    n,
    prime,
    divisor,
    method: PrimeMethod.PRIME_METHOD_TRIAL_DIVISION,
    elapsedSeconds: (performance.now() - started) / 1000,
  });
  if (n < SPLIT_ABOVE) {
    const r = await pool.submit(
      PrimeCheckerService.isPrime,
      { n, method: PrimeMethod.PRIME_METHOD_TRIAL_DIVISION },
      options,
    );
    return { ...r, elapsedSeconds: (performance.now() - started) / 1000 };
  }
  if (n % 2n === 0n) return answer(false, 2n);
  await pool.ready();
  const root = isqrt(n);
  const last = root % 2n === 0n ? root - 1n : root;
  const candidates = (last - 3n) / 2n + 1n;
  const count = BigInt(Math.max(1, pool.slots * RANGES_PER_SLOT));
  const perRange = (candidates + count - 1n) / count;
  function* ranges() {
    for (let from = 3n; from <= last; from += 2n * perRange) {
      const to = from + 2n * (perRange - 1n);
      yield { n, from, to: to < last ? to : last };
    }
  }
  // In order: the first range that finds a divisor holds the smallest one;
  // leaving the loop cancels every range still running.
  for await (const r of pool.imap(PrimeCheckerService.findDivisor, ranges(), { chunkSize: 1, ...options })) {
    if (r.divisor !== 0n) return answer(false, r.divisor);
  }
  return answer(true, 0n);
}

function toUint64(value: bigint | number | string, field: string): bigint {
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    throw new RangeError(`${field} must be an integer from 0 to 2^64-1, got ${String(value)}`);
  }
  if (n < 0n || n >= UINT64_LIMIT) throw new RangeError(`${field} must be from 0 to 2^64-1, got ${n}`);
  return n;
}
