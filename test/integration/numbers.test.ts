import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { connect, type NodeConnection } from "../../client/connect.js";
import type { FerryNode } from "../../server/create-node.js";
import { ObjectsClient } from "../../src/gen/ferry/v1/objects.js";
import type { Value } from "../../src/gen/ferry/v1/value.js";
import { fromValue, toValue } from "../../src/value-codec.js";
import { ROOT, startNode } from "../helpers.js";

const FIXTURE = `${ROOT}test/fixtures/numbers-calc.js`;
const { numbers } = (await import(FIXTURE)) as { numbers: Numbers };

interface Numbers {
  exposed: string[];
  add(a: number, b: number): number;
  mul(a: bigint, b: bigint): bigint;
  sqrt(x: number): number;
  kind(x: unknown): string;
}

let node: FerryNode;
let target: string;
let conn: NodeConnection;
let raw: ObjectsClient;

before(async () => {
  ({ node, target } = await startNode({ workers: 1 }));
  const methods = numbers.exposed;
  node.expose("main", numbers, { methods });
  node.expose("workers", numbers, { methods, run: "workers", module: FIXTURE, exportName: "numbers" });
  conn = connect(target);
  raw = new ObjectsClient(target, credentials.createInsecure());
});

after(async () => {
  raw.close();
  conn.close();
  await node.shutdown();
});

/**
 * A unary Invoke with the Values as another language builds them; the result
 * as it is on the wire: its one kind that is set, e.g. `{ int64Value: 5n }`.
 */
function invoke(object: string, method: string, args: Value[]): Promise<Partial<Value>> {
  return new Promise((resolve, reject) =>
    raw.invoke({ object, method, args }, (err, res) =>
      err
        ? reject(err)
        : resolve(Object.fromEntries(Object.entries(res?.result ?? {}).filter(([, v]) => v !== undefined))),
    ),
  );
}

for (const where of ["main", "workers"] as const) {
  describe(`methods on ${where === "main" ? "the main thread" : "worker threads"}`, () => {
    test("a bigint sent from TypeScript comes back an exact bigint, in a session and through Invoke", async () => {
      const calc = conn.proxy<Numbers>(where);
      const square = await calc.mul(3037000499n, 3037000499n);
      assert.equal(typeof square, "bigint");
      assert.equal(square, 9223372030926249001n);
      assert.equal(await calc.kind(5n), "bigint", "a small bigint is still a bigint");
      assert.equal(await calc.mul(-(2n ** 31n), 2n ** 32n), -(2n ** 63n));
      const result = await invoke(where, "mul", [toValue(3037000499n, "a"), toValue(3037000499n, "b")]);
      assert.equal(fromValue(result as Value, "result"), 9223372030926249001n);
    });

    test("integers from Python or Go reach a method written for numbers; its numbers go back as doubles", async () => {
      // Go's int64 beside a double: a + b, not a TypeError mixing BigInt and other types.
      assert.deepEqual(await invoke(where, "add", [{ int64Value: 2n }, { doubleValue: 0.5 }]), {
        doubleValue: 2.5,
      });
      assert.deepEqual(await invoke(where, "add", [{ int64Value: 2n }, { int64Value: 3n }]), {
        doubleValue: 5,
      });
      assert.deepEqual(await invoke(where, "sqrt", [{ int64Value: 16n }]), { doubleValue: 4 });
      assert.deepEqual(await invoke(where, "sqrt", [{ int64Value: 2n }]), { doubleValue: Math.SQRT2 });
      assert.deepEqual(await invoke(where, "kind", [{ uint64Value: 7n }]), { stringValue: "number" });
      // Past 2^53 an integer stays exact, as a bigint.
      assert.deepEqual(await invoke(where, "kind", [{ int64Value: 2n ** 60n }]), { stringValue: "bigint" });
      assert.deepEqual(await invoke(where, "add", [{ int64Value: 2n ** 60n }, { int64Value: 2n ** 60n }]), {
        bigintValue: 2n ** 61n,
      });
    });

    test("numbers sent from TypeScript stay numbers", async () => {
      const calc = conn.proxy<Numbers>(where);
      assert.equal(await calc.add(2, 3), 5);
      assert.equal(await calc.add(0.25, 1), 1.25);
      assert.equal(await calc.kind(2 ** 60), "number");
      assert.ok(Object.is(await calc.add(-0, -0), -0));
      assert.equal(await calc.sqrt(16), 4);
    });
  });
}
