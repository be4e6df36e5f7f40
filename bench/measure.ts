/** Call-rate measurement shared by the benchmarks. */

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface Figures {
  rate: number;
  p50: number;
  p99: number;
}

/** Runs `total` calls with `concurrency` in flight; latency in µs. */
export async function measure(
  total: number,
  concurrency: number,
  fn: () => Promise<unknown>,
): Promise<Figures> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t = performance.now();
        await fn();
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The run with the median rate. */
export function medianFigures(runs: Figures[]): Figures {
  return [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)] as Figures;
}

/** "  1234 calls/s  p50   123 µs  p99   456 µs" */
export const fmt = (f: Figures) =>
  `${Math.round(f.rate).toString().padStart(6)} calls/s  p50 ${f.p50.toFixed(0).padStart(5)} µs  p99 ${f.p99.toFixed(0).padStart(5)} µs`;
