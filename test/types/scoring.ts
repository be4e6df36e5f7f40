// A user's module of exposed objects, as the type tests import it
// (`import type * as Scoring from "./scoring.js"`).

export const scoring = {
  exposed: ["score", "add", "countdown"],
  run: "workers" as const,
  score(x: number): number {
    return x * 2;
  },
  add(a: number, b: number): number {
    return a + b;
  },
  async *countdown(n: number): AsyncGenerator<number> {
    while (n > 0) yield n--;
  },
};

export class Model {
  static exposed = ["fit", "predict"];
  static instance = "session" as const;
  static run = "workers" as const;
  #rows: number[][] = [];
  fit(rows: number[][]): number {
    this.#rows.push(...rows);
    return this.#rows.length;
  }
  async predict(x: number[]): Promise<{ label: string; p: number }> {
    return { label: x.length > 0 ? "yes" : "no", p: 0.5 };
  }
}
