/**
 * Compile-only checks of the pool's typing (`npm run typecheck` fails if a
 * line marked @ts-expect-error compiles). Never run.
 */
import type { Pool } from "../../client/pool.js";
import type { RemoteError } from "../../client/remote-error.js";
import type { EstimateResponse } from "../../src/gen/ferry/v1/pi.js";
import { type IsPrimeResponse, PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";

declare const pool: Pool;

export async function typedMethods(): Promise<void> {
  const results: IsPrimeResponse[] = await pool.map(PrimeChecker.isPrime, [
    { n: 97n },
    { n: "98" },
    { n: 99 },
  ]);
  const settled: (IsPrimeResponse | RemoteError)[] = await pool.map(PrimeChecker.isPrime, [{ n: 97n }], {
    errors: "return",
  });
  // @ts-expect-error with errors: "return" an entry may be a RemoteError
  const unsettled: IsPrimeResponse[] = await pool.map(PrimeChecker.isPrime, [{ n: 97n }], {
    errors: "return",
  });
  // @ts-expect-error items are the method's requests
  await pool.map(PrimeChecker.isPrime, [{ samples: 1n }]);
  for await (const r of pool.imapUnordered(PrimeChecker.isPrime, [{ n: 2n }])) {
    const prime: boolean = r.prime;
    void prime;
  }
  const one: IsPrimeResponse = await pool.submit(PrimeChecker.isPrime, { n: 7n });
  const pi: EstimateResponse = await pool.estimatePi({ samples: 1_000_000n, seed: 42n });
  void [results, settled, unsettled, one, pi];
}

export async function exposedMethods(): Promise<void> {
  const squares: number[] = await pool.map<number>("calc.square", [1, 2, 3]);
  const sums: (number | RemoteError)[] = await pool.starmap<number>("calc.add", [[1, 2]], {
    errors: "return",
  });
  const sum: number = await pool.submit<number>("calc.add", [2, 3]);
  for await (const n of pool.imap<number>("calc.square", [1, 2])) {
    const x: number = n;
    void x;
  }
  // @ts-expect-error submit to an exposed method takes the argument list
  await pool.submit("calc.add", 2);
  void [squares, sums, sum];
}
