/**
 * Compile-only checks of Remote<T> (`npm run typecheck` fails if a line
 * marked @ts-expect-error compiles). Never run.
 */
import type { Remote } from "../../client/proxy.js";
import type { RemoteCall } from "../../client/remote-call.js";

class Calculator {
  total = 0;
  add(a: number, b: number) {
    return a + b;
  }
  async slow(): Promise<string> {
    return "done";
  }
  async *countdown(n: number) {
    while (n > 0) yield n--;
  }
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: checked unreachable below
  private secret() {
    return 1;
  }
}

declare const calc: Remote<Calculator>;

export async function remote(): Promise<void> {
  const sum: number = await calc.add(2, 3);
  const call: RemoteCall<number> = calc.add(2, 3);
  const text: string = await calc.slow();
  for await (const n of calc.countdown(3)) {
    const value: number = n;
    void value;
  }
  const all: number[] = await calc.countdown(3);
  await using disposable = calc;
  // @ts-expect-error arguments keep their types
  calc.add("2", 3);
  // @ts-expect-error private methods are not part of the remote type
  calc.secret();
  // @ts-expect-error fields are not part of the remote type
  calc.total;
  // @ts-expect-error add resolves to a number
  const wrong: string = await calc.add(1, 2);
  void [sum, call, text, all, disposable, wrong];
}
