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
