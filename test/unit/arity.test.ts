import assert from "node:assert/strict";
import { test } from "node:test";
import { declaredArity } from "../../src/arity.js";

test("every declared parameter counts, defaults too, as fn.length does not", () => {
  class Greeter {
    greet(n: string, g = "hi, (there), [you]") {
      return `${g} ${n}`;
    }
    async *stream(a: number, { b, c }: { b: number; c: number } = { b: 1, c: 2 }, d = [1, 2]) {
      yield a + b + c + (d[0] ?? 0);
    }
  }
  const g = new Greeter();
  assert.equal(g.greet.length, 1, "fn.length stops at the first default");
  assert.equal(declaredArity(g.greet), 2);
  assert.equal(declaredArity(g.stream), 3);
  assert.equal(
    declaredArity(function add(a: number, b: number) {
      return a + b;
    }),
    2,
  );
  assert.equal(
    declaredArity((a: number, b = (x: number) => x * 2) => b(a)),
    2,
  );
  assert.equal(
    declaredArity((x: number) => x),
    1,
  );
  assert.equal(
    declaredArity(() => 0),
    0,
  );
});

test("a rest parameter takes any number; native functions fall back to fn.length", () => {
  assert.equal(
    declaredArity((first: number, ...rest: number[]) => first + rest.length),
    undefined,
  );
  assert.equal(declaredArity(Math.max), Math.max.length);
  const bound = ((a: number, b: number) => a + b).bind(null);
  assert.equal(declaredArity(bound), bound.length);
});
