/**
 * Compile-only checks of the typed clients (`npm run typecheck` fails if a
 * line marked @ts-expect-error compiles). Never run.
 */
import type { ServiceClient } from "../../client/service-client.js";
import type { FetcherService, FetchManyResponse } from "../../src/gen/ferry/v1/fetch.js";
import type { EstimateWithProgressResponse, PiEstimatorService } from "../../src/gen/ferry/v1/pi.js";
import type {
  CheckManyResponse,
  IsPrimeResponse,
  PrimeCheckerService,
} from "../../src/gen/ferry/v1/prime.js";

declare const primes: ServiceClient<typeof PrimeCheckerService>;
declare const pi: ServiceClient<typeof PiEstimatorService>;
declare const fetcher: ServiceClient<typeof FetcherService>;

export async function typed(): Promise<void> {
  const r: IsPrimeResponse = await primes.isPrime(
    { n: 7n },
    { timeoutMs: 10, signal: AbortSignal.timeout(10) },
  );
  const n: bigint = r.n;
  await primes.isPrime({ n: "7" });
  await primes.isPrime({ n: 7 });
  // @ts-expect-error n is an integer, not a boolean
  await primes.isPrime({ n: true });
  // @ts-expect-error no such field
  await primes.isPrime({ n: 7n, bogus: 1 });
  // @ts-expect-error no such method
  primes.isprime;
  // @ts-expect-error options are { timeoutMs, signal }
  await primes.isPrime({ n: 7n }, { timeout: 5 });

  const stream: AsyncIterable<CheckManyResponse> = primes.checkMany([{ n: 7n }, { n: 9n }]);
  const progress: AsyncIterable<EstimateWithProgressResponse> = pi.estimateWithProgress({ samples: 10n });
  const fetched: AsyncIterable<FetchManyResponse> = fetcher.fetchMany({
    urls: ["http://a/"],
    concurrency: 2,
  });
  // @ts-expect-error a unary call is a promise, not an iterable
  const wrong: AsyncIterable<IsPrimeResponse> = primes.isPrime({ n: 7n });
  void [n, stream, progress, fetched, wrong];
}
