// Objects the demo node serves with `ferry node --load demo/objects.js`.

export class Calculator {
  static exposed = ["add", "countdown", "sumWithProgress"];
  static instance = "single";

  add(a, b) {
    return a + b;
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
