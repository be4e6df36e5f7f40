import type {
  EstimateRequest,
  EstimateResponse,
  EstimateWithProgressRequest,
  EstimateWithProgressResponse,
  PiEstimatorServer,
} from "../src/gen/ferry/v1/pi.js";
import { estimateFromCounts, PI_BLOCK_SAMPLES } from "../src/kernels/pi.js";
import { invalidArgument } from "../src/server-error.js";
import { type HandlerContext, serverStream, unary } from "./handlers.js";
import type { WorkerPool } from "./workers/worker-pool.js";

/** Most samples one call may ask for by default: about 7 minutes of two workers. */
export const DEFAULT_MAX_SAMPLES = 100_000_000_000n;

/**
 * Blocks per worker task: ~16.8 M samples, ~0.1 s of one thread. Small enough
 * that other calls interleave with a long estimate and progress stays fresh;
 * large enough that the ~30 µs task hand-off is noise.
 */
export const PI_TASK_BLOCKS = 16;

const DEFAULT_PROGRESS_INTERVAL_MS = 250;

interface Progress {
  done: bigint;
  inside: bigint;
}

/**
 * Runs `samples` points of stream `seed` across every worker, a task of
 * PI_TASK_BLOCKS blocks at a time with two tasks per worker in flight (one
 * running, one waiting, so a worker never idles between tasks), and
 * yields the running totals after each task. Block boundaries fix the random
 * streams, so the total is the same however the tasks are scheduled.
 */
async function* estimate(
  pool: WorkerPool,
  samples: bigint,
  seed: bigint,
  firstBlock: bigint,
  maxSamples: bigint,
  signal: AbortSignal,
): AsyncGenerator<Progress> {
  if (samples === 0n) throw invalidArgument("samples", "must be at least 1");
  if (samples > maxSamples) {
    throw invalidArgument(
      "samples",
      `must be at most ${maxSamples} (the node's maxSamples limit), got ${samples}`,
    );
  }
  const block = BigInt(PI_BLOCK_SAMPLES);
  const blocks = Number((samples + block - 1n) / block);
  if (firstBlock > BigInt(Number.MAX_SAFE_INTEGER - blocks)) {
    throw invalidArgument("first_block", `must be at most 2^53 minus the blocks drawn, got ${firstBlock}`);
  }
  const base = Number(firstBlock);
  const running = new Set<Promise<void>>();
  const progress: Progress = { done: 0n, inside: 0n };
  let failure: unknown;
  for (let start = 0; start < blocks || running.size > 0; ) {
    while (start < blocks && running.size < pool.size * 2 && failure === undefined) {
      const first = BigInt(start) * block;
      const end = first + BigInt(PI_TASK_BLOCKS) * block;
      const count = Number((end < samples ? end : samples) - first);
      const task = pool.run({ kind: "pi", seed, startBlock: base + start, samples: count }, signal).then(
        (result) => {
          if (result.kind !== "pi") throw new Error(`worker answered ${result.kind} to a pi task`);
          progress.done += BigInt(count);
          progress.inside += BigInt(result.inside);
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
      const tracked: Promise<void> = task.finally(() => running.delete(tracked));
      running.add(tracked);
      start += PI_TASK_BLOCKS;
    }
    if (failure !== undefined) {
      await Promise.allSettled(running);
      throw failure;
    }
    if (running.size === 0) break;
    await Promise.race(running);
    if (failure === undefined) yield { ...progress };
  }
}

/** Runs a whole estimate and answers once (PiEstimator.Estimate). */
export async function estimatePi(
  pool: WorkerPool,
  request: EstimateRequest,
  maxSamples: bigint,
  signal: AbortSignal,
): Promise<EstimateResponse> {
  const started = performance.now();
  let last: Progress = { done: 0n, inside: 0n };
  for await (const p of estimate(pool, request.samples, request.seed, request.firstBlock, maxSamples, signal))
    last = p;
  return response(last, request.seed, (performance.now() - started) / 1000);
}

function response(progress: Progress, seed: bigint, seconds: number): EstimateResponse {
  const { pi, stderr } = estimateFromCounts(progress.inside, progress.done);
  return { pi, inside: progress.inside, samples: progress.done, stderr, elapsedSeconds: seconds, seed };
}

/**
 * Runs a whole estimate, yielding the running estimate every `intervalMs`
 * (default 250 ms) and the final one (PiEstimator.EstimateWithProgress).
 */
export async function* estimateWithProgress(
  pool: WorkerPool,
  req: EstimateWithProgressRequest,
  maxSamples: bigint,
  signal: AbortSignal,
): AsyncGenerator<EstimateWithProgressResponse> {
  const started = performance.now();
  const interval = req.intervalMs === 0 ? DEFAULT_PROGRESS_INTERVAL_MS : req.intervalMs;
  let last: Progress = { done: 0n, inside: 0n };
  let reported = started;
  for await (const p of estimate(pool, req.samples, req.seed, 0n, maxSamples, signal)) {
    last = p;
    const now = performance.now();
    if (p.done < req.samples && now - reported >= interval) {
      reported = now;
      const seconds = (now - started) / 1000;
      yield { estimate: response(p, req.seed, seconds), doneSamples: p.done, done: false };
    }
  }
  const seconds = (performance.now() - started) / 1000;
  yield { estimate: response(last, req.seed, seconds), doneSamples: last.done, done: true };
}

/** gRPC handlers of ferry.v1.PiEstimator. */
export function piEstimatorServer(
  ctx: HandlerContext,
  pool: WorkerPool,
  maxSamples: bigint,
): PiEstimatorServer {
  return {
    estimate: unary(ctx, "/ferry.v1.PiEstimator/Estimate", (req: EstimateRequest, signal) =>
      estimatePi(pool, req, maxSamples, signal),
    ),
    estimateWithProgress: serverStream(
      ctx,
      "/ferry.v1.PiEstimator/EstimateWithProgress",
      (req: EstimateWithProgressRequest, signal) => estimateWithProgress(pool, req, maxSamples, signal),
    ),
  };
}
