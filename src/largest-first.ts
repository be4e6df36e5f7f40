/**
 * The numbers in decreasing order. Trial division of n tries up to √n
 * candidates, so the largest numbers are the longest checks; handing them
 * out first keeps a long check from starting last while every other slot
 * idles (longest-processing-time-first list scheduling). `ferry primes`, the
 * demo and the benchmarks map the book's numbers in this order.
 */
export function largestFirst(numbers: readonly bigint[]): bigint[] {
  return [...numbers].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}
