/**
 * The exact integer square root: the largest r with r * r <= n. Throws RangeError for negative n.
 * Exact for any size of n (Newton's method on bigints, started above the root so it descends).
 */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`isqrt of a negative number: ${n}`);
  if (n < 2n) return n;
  // 2^ceil(bits/2) is at least the root, so every iterate stays >= the root and the sequence falls to it.
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
