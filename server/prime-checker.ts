import {
  type CheckManyRequest,
  type CheckManyResponse,
  type FindDivisorRequest,
  type FindDivisorResponse,
  type IsPrimeRequest,
  type IsPrimeResponse,
  type PrimeCheckerServer,
  PrimeMethod,
} from "../src/gen/ferry/v1/prime.js";
import { invalidArgument } from "../src/server-error.js";
import { UINT64_LIMIT } from "../src/uint64.js";
import { bidiStream, type HandlerContext, unary } from "./handlers.js";
import type { WorkerPool } from "./workers/worker-pool.js";

/** Checks one number on the pool with the requested method. */
export async function checkPrime(
  pool: WorkerPool,
  n: bigint,
  method: PrimeMethod,
  signal: AbortSignal,
): Promise<IsPrimeResponse> {
  if (n < 0n || n >= UINT64_LIMIT) throw invalidArgument("n", `must be from 0 to 2^64-1, got ${n}`);
  const resolved = resolveMethod(method);
  const kind = resolved === PrimeMethod.PRIME_METHOD_MILLER_RABIN ? "miller-rabin" : "trial-division";
  const result = await pool.run({ kind, n }, signal);
  if (result.kind !== "prime") throw new Error(`worker answered ${result.kind} to a prime task`);
  return {
    n,
    prime: result.prime,
    divisor: result.divisor,
    method: resolved,
    elapsedSeconds: result.seconds,
  };
}

/** Largest divisor candidate a FindDivisor range may name: the kernel works below 2^32. */
const MAX_DIVISOR_CANDIDATE = (1n << 32n) - 1n;

/** Tries one range of odd divisors of n on the pool (PrimeChecker.FindDivisor). */
export async function findDivisor(
  pool: WorkerPool,
  req: FindDivisorRequest,
  signal: AbortSignal,
): Promise<FindDivisorResponse> {
  const { n, from, to } = req;
  if (n < 0n || n >= UINT64_LIMIT) throw invalidArgument("n", `must be from 0 to 2^64-1, got ${n}`);
  if (from < 3n || from % 2n === 0n) throw invalidArgument("from", `must be odd and at least 3, got ${from}`);
  if (to < from || to > MAX_DIVISOR_CANDIDATE) {
    throw invalidArgument("to", `must be from \`from\` (${from}) to 2^32-1, got ${to}`);
  }
  const result = await pool.run({ kind: "find-divisor", n, from, to }, signal);
  if (result.kind !== "divisor") throw new Error(`worker answered ${result.kind} to a divisor task`);
  return { divisor: result.divisor, elapsedSeconds: result.seconds };
}

function resolveMethod(method: PrimeMethod): PrimeMethod {
  switch (method) {
    case PrimeMethod.PRIME_METHOD_UNSPECIFIED:
    case PrimeMethod.PRIME_METHOD_TRIAL_DIVISION:
      return PrimeMethod.PRIME_METHOD_TRIAL_DIVISION;
    case PrimeMethod.PRIME_METHOD_MILLER_RABIN:
      return method;
    default:
      throw invalidArgument(
        "method",
        `unknown PrimeMethod ${method} (values: 0 UNSPECIFIED, 1 TRIAL_DIVISION, 2 MILLER_RABIN)`,
      );
  }
}

/** Calls of one CheckMany stream allowed to run or wait on the pool at once, per worker. */
export const CHECK_MANY_WINDOW_PER_WORKER = 4;

/** gRPC handlers of ferry.v1.PrimeChecker. */
export function primeCheckerServer(ctx: HandlerContext, pool: WorkerPool): PrimeCheckerServer {
  return {
    isPrime: unary(ctx, "/ferry.v1.PrimeChecker/IsPrime", (req: IsPrimeRequest, signal) =>
      checkPrime(pool, req.n, req.method, signal),
    ),
    findDivisor: unary(ctx, "/ferry.v1.PrimeChecker/FindDivisor", (req: FindDivisorRequest, signal) =>
      findDivisor(pool, req, signal),
    ),
    checkMany: bidiStream(
      ctx,
      "/ferry.v1.PrimeChecker/CheckMany",
      (requests: AsyncIterable<CheckManyRequest>, signal) => checkMany(pool, requests, signal),
    ),
  };
}

/**
 * Runs the numbers of a request stream on the pool, a bounded window at a time
 * (reading pauses while the window is full, so a fast sender cannot queue
 * unbounded work), and yields each result as soon as it finishes.
 */
export async function* checkMany(
  pool: WorkerPool,
  requests: AsyncIterable<CheckManyRequest>,
  signal: AbortSignal,
): AsyncGenerator<CheckManyResponse> {
  const window = pool.size * CHECK_MANY_WINDOW_PER_WORKER;
  const finished: CheckManyResponse[] = [];
  let running = 0;
  let readerDone = false;
  let failure: unknown;
  let wake = () => {};
  let slotFree = () => {};

  void (async () => {
    let index = 0;
    for await (const request of requests) {
      if (signal.aborted || failure !== undefined) break;
      const i = index++;
      running++;
      checkPrime(pool, request.n, request.method, signal)
        .then((result) => finished.push({ index: i, result }))
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => {
          running--;
          slotFree();
          wake();
        });
      while (running >= window && failure === undefined && !signal.aborted) {
        await new Promise<void>((resolve) => {
          slotFree = resolve;
        });
      }
    }
  })()
    .catch((err: unknown) => {
      failure ??= err;
    })
    .finally(() => {
      readerDone = true;
      wake();
    });

  for (;;) {
    // Arm the wake-up before looking at the state, so no change is missed.
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    while (finished.length > 0) yield finished.shift() as CheckManyResponse;
    if (failure !== undefined) throw failure;
    if (readerDone && running === 0) return;
    await changed;
  }
}
