/**
 * Timings of the compute kernels on one thread: `npx tsx bench/kernels.ts`. Prints figures, asserts nothing.
 * Runs for about 10 seconds; trial division and pi are timed once each (their runs are long enough), Miller–Rabin
 * once cold and then averaged warm.
 */
import { BOOK_NUMBERS } from "../src/book-numbers.js";
import { isPrimeMillerRabin } from "../src/kernels/miller-rabin.js";
import { countInside, estimateFromCounts } from "../src/kernels/pi.js";
import { smallestDivisor, smallestDivisorBigInt } from "../src/kernels/trial-division.js";

const NUMBERS = BOOK_NUMBERS;

function seconds<T>(work: () => T): [T, number] {
  const start = performance.now();
  const result = work();
  return [result, (performance.now() - start) / 1000];
}

function line(label: string, value: string): void {
  console.log(`${label.padEnd(44)} ${value}`);
}

const [, wasmOne] = seconds(() => smallestDivisor(9999999999999917n));
line("trial division 9999999999999917, wasm", `${wasmOne.toFixed(3)} s`);
const [, bigintOne] = seconds(() => smallestDivisorBigInt(9999999999999917n));
line("trial division 9999999999999917, BigInt", `${bigintOne.toFixed(3)} s`);

const [wasmAll, wasmAllTime] = seconds(() => NUMBERS.map((n) => smallestDivisor(n)));
line("trial division all 20, wasm", `${wasmAllTime.toFixed(3)} s`);
const [bigintAll, bigintAllTime] = seconds(() => NUMBERS.map((n) => smallestDivisorBigInt(n)));
line("trial division all 20, BigInt", `${bigintAllTime.toFixed(3)} s`);
if (wasmAll.some((d, i) => d !== bigintAll[i])) line("trial division", "MISMATCH between wasm and BigInt");

const [, mrCold] = seconds(() => NUMBERS.map((n) => isPrimeMillerRabin(n)));
line("Miller-Rabin all 20, first run", `${(mrCold * 1000).toFixed(3)} ms`);
const rounds = 1000;
const [, mrWarm] = seconds(() => {
  for (let i = 0; i < rounds; i++) for (const n of NUMBERS) isPrimeMillerRabin(n);
});
line("Miller-Rabin all 20, warm average", `${((mrWarm / rounds) * 1000).toFixed(3)} ms`);

const samples = 100_000_000;
const [inside, piTime] = seconds(() => countInside(1n, 0, samples));
const { pi, stderr } = estimateFromCounts(BigInt(inside), BigInt(samples));
line(
  "pi 100M samples, one thread",
  `${(samples / piTime / 1e6).toFixed(1)} M samples/s (${piTime.toFixed(3)} s)`,
);
line("pi estimate", `${pi} +- ${stderr.toExponential(2)}`);
