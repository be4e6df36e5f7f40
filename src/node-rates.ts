import type { MethodCalls, StatsResponse } from "./gen/ferry/v1/node.js";

/** A node's calls over a stretch of time, from two Node.Stats answers. */
export interface CallRates {
  /** Calls answered per second. */
  callsPerSecond: number;
  /** Calls that did not end OK, per second. */
  errorsPerSecond: number;
  /** Median and 99th-percentile duration of those calls, in seconds (0 with none). */
  p50: number;
  p99: number;
}

/** One method's rates, by name. */
export interface MethodRates extends CallRates {
  object: string;
  method: string;
}

const sum = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);

/**
 * The duration under which a fraction `q` of the calls counted in
 * `buckets` ended: the upper bound of the bucket the quantile falls in
 * (`bounds` as Node.Stats gives them; past the last bound, Infinity).
 */
export function quantile(bounds: readonly number[], buckets: readonly bigint[], q: number): number {
  const total = sum(buckets);
  if (total === 0n) return 0;
  const rank = q * Number(total);
  let seen = 0;
  for (let b = 0; b < buckets.length; b++) {
    seen += Number(buckets[b]);
    if (seen >= rank) return bounds[b] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/** `now` minus `before`, entry by entry (counts only grow; a restarted node starts again from `now`). */
function delta(now: readonly bigint[], before: readonly bigint[] | undefined): bigint[] {
  return now.map((n, i) => {
    const d = n - (before?.[i] ?? 0n);
    return d < 0n ? n : d;
  });
}

function ratesOf(
  codes: readonly bigint[],
  buckets: readonly bigint[],
  bounds: readonly number[],
  seconds: number,
): CallRates {
  const calls = Number(sum(codes));
  const errors = calls - Number(codes[0] ?? 0n);
  const per = seconds > 0 ? 1 / seconds : 0;
  return {
    callsPerSecond: calls * per,
    errorsPerSecond: errors * per,
    p50: quantile(bounds, buckets, 0.5),
    p99: quantile(bounds, buckets, 0.99),
  };
}

interface MethodDelta {
  object: string;
  method: string;
  codes: bigint[];
  buckets: bigint[];
}

/**
 * Each method's counts between two answers of one node, and the seconds
 * they span: with no earlier answer, or one from before the node
 * restarted, the node's whole uptime.
 */
function deltas(
  now: StatsResponse,
  before: StatsResponse | undefined,
  seconds: number,
): { methods: MethodDelta[]; span: number } {
  const restarted = before !== undefined && now.uptimeSeconds < before.uptimeSeconds;
  const earlier = new Map<string, MethodCalls>();
  if (!restarted) for (const m of before?.methods ?? []) earlier.set(`${m.object}.${m.method}`, m);
  const methods = now.methods.map((m) => {
    const was = earlier.get(`${m.object}.${m.method}`);
    return {
      object: m.object,
      method: m.method,
      codes: delta(m.codes, was?.codes),
      buckets: delta(m.buckets, was?.buckets),
    };
  });
  return { methods, span: before && !restarted ? seconds : now.uptimeSeconds };
}

/**
 * Each method's rates between two answers of one node, `seconds` apart
 * (with no earlier answer: over the node's whole uptime).
 */
export function methodRates(
  now: StatsResponse,
  before: StatsResponse | undefined,
  seconds: number,
): MethodRates[] {
  const { methods, span } = deltas(now, before, seconds);
  const bounds = now.bucketBoundsSeconds;
  return methods.map((m) => ({
    object: m.object,
    method: m.method,
    ...ratesOf(m.codes, m.buckets, bounds, span),
  }));
}

/** A node's rates over all its methods together, between two answers `seconds` apart. */
export function nodeRates(now: StatsResponse, before: StatsResponse | undefined, seconds: number): CallRates {
  const { methods, span } = deltas(now, before, seconds);
  const codes = new Array<bigint>(17).fill(0n);
  const buckets = new Array<bigint>(now.bucketBoundsSeconds.length + 1).fill(0n);
  for (const m of methods) {
    m.codes.forEach((n, i) => {
      codes[i] = (codes[i] ?? 0n) + n;
    });
    m.buckets.forEach((n, i) => {
      buckets[i] = (buckets[i] ?? 0n) + n;
    });
  }
  return ratesOf(codes, buckets, now.bucketBoundsSeconds, span);
}

/** Two answers of one node and the seconds between them (see {@link methodRates}). */
export interface StatsPair {
  now: StatsResponse;
  before: StatsResponse | undefined;
  seconds: number;
}

/**
 * Each method's rates over several nodes together: calls and errors per
 * second add up, and the percentiles come from the nodes' buckets added up.
 */
export function clusterMethodRates(pairs: readonly StatsPair[]): MethodRates[] {
  const merged = new Map<
    string,
    { object: string; method: string; calls: number; errors: number; buckets: bigint[] }
  >();
  let bounds: readonly number[] = [];
  for (const { now, before, seconds } of pairs) {
    bounds = now.bucketBoundsSeconds;
    const { methods, span } = deltas(now, before, seconds);
    for (const m of methods) {
      const key = `${m.object}.${m.method}`;
      let entry = merged.get(key);
      if (!entry) {
        entry = { object: m.object, method: m.method, calls: 0, errors: 0, buckets: [] };
        merged.set(key, entry);
      }
      const rates = ratesOf(m.codes, m.buckets, bounds, span);
      entry.calls += rates.callsPerSecond;
      entry.errors += rates.errorsPerSecond;
      m.buckets.forEach((n, i) => {
        entry.buckets[i] = (entry.buckets[i] ?? 0n) + n;
      });
    }
  }
  return [...merged.values()].map((m) => ({
    object: m.object,
    method: m.method,
    callsPerSecond: m.calls,
    errorsPerSecond: m.errors,
    p50: quantile(bounds, m.buckets, 0.5),
    p99: quantile(bounds, m.buckets, 0.99),
  }));
}
