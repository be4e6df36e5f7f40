// Objects the demo node serves with `ferry node --load demo/objects.js`.

export class Calculator {
  static exposed = ["add", "square", "countdown", "sumWithProgress"];
  static instance = "single";
  // Safe to run twice: a pool may send these again when a node fails.
  static idempotent = ["add", "square"];

  add(a, b) {
    return a + b;
  }

  square(x) {
    return x * x;
  }

  async *countdown(n) {
    for (let i = n; i > 0; i--) yield i;
  }

  // `report` is a function on the caller's side, called back over the session.
  async sumWithProgress(numbers, report) {
    let total = 0;
    for (const [i, n] of numbers.entries()) {
      total += n;
      await report(i + 1, total);
    }
    return total;
  }
}

// A user's own CPU-bound function: the same fixed amount of arithmetic for
// any argument (about 60 ms here), a checksum as its answer.
function score(seed) {
  let x = seed >>> 0;
  for (let i = 0; i < 30_000_000; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  return x;
}

// One word more than a plain object: its calls run in every node's worker threads.
export const scoring = { exposed: ["score"], run: "workers", idempotent: true, score };
// The same function without it, on each node's event loop, for the comparison.
export const scoringOnMain = { exposed: ["score"], idempotent: true, score };

// For the demo's own process: the function run here, one call after another.
export { score as scoreHere };
