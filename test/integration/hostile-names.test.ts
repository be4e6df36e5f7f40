/**
 * Method, object and ref names aimed at the prototype (`__proto__`,
 * `constructor`, `then`, …), over Invoke, Describe and a session, against an
 * object whose own members shadow those names, one that has only
 * Object.prototype's, and "calc". Each is refused and none runs (see
 * test/hostile-node.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { Code, codeName } from "../../src/code.js";
import { ObjectsClient, SessionRequest } from "../../src/gen/ferry/v1/objects.js";
import { type HostileNode, PROTOTYPE_NAMES, prototypeTraps, startHostileNode } from "../hostile-node.js";
import { sessionRaw, sessionResults } from "../hostile-wire.js";

const { ran, trap, plain, expose } = prototypeTraps();

describe("hostile input: prototype names", { timeout: 120_000 }, () => {
  let hostile: HostileNode;

  before(async () => {
    hostile = await startHostileNode(expose);
  });

  after(async () => {
    await hostile?.close();
  });

  test("method and object names aimed at the prototype are refused, never run", async () => {
    const { target, raw, assertServing } = hostile;
    const typed = new ObjectsClient(target, credentials.createInsecure());
    // Spies on Object.prototype's methods that fire only when called on an exposed object.
    const spied = [
      "toString",
      "toLocaleString",
      "valueOf",
      "hasOwnProperty",
      "isPrototypeOf",
      "propertyIsEnumerable",
      "__defineGetter__",
      "__defineSetter__",
      "__lookupGetter__",
      "__lookupSetter__",
    ];
    const saved = new Map<string, PropertyDescriptor>();
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).join();
    for (const name of spied) {
      const descriptor = Object.getOwnPropertyDescriptor(Object.prototype, name) as PropertyDescriptor;
      saved.set(name, descriptor);
      const original = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(Object.prototype, name, {
        ...descriptor,
        value: function spy(this: unknown, ...args: unknown[]) {
          if (this === plain || this === trap) ran.push(`Object.prototype.${name}`);
          return original.apply(this, args);
        },
      });
    }
    const invoke = (object: string, method: string) =>
      new Promise<ServiceError | undefined>((resolve) =>
        typed.invoke({ object, method, args: [] }, new Metadata(), { deadline: Date.now() + 5_000 }, (err) =>
          resolve(err ?? undefined),
        ),
      );
    try {
      // Sanity: the objects are reachable, so the refusals below are about the names.
      const ok = await invoke("trap", "add");
      assert.equal(ok, undefined, `trap.add should run: ${ok?.details}`);
      const objects = ["trap", "plain", "calc"];
      for (const object of objects) {
        for (const method of PROTOTYPE_NAMES) {
          const err = await invoke(object, method);
          assert.ok(err, `${object}.${method} was answered`);
          assert.equal(codeName(err.code), "UNIMPLEMENTED", `${object}.${method}: ${err.details}`);
          assert.match(err.details, /is not exposed.*; methods: add/, `${object}.${method}`);
        }
      }
      for (const object of [...PROTOTYPE_NAMES, "Object", "Counter.prototype", "calc.__proto__"]) {
        const err = await invoke(object, "add");
        assert.ok(err, `object ${object} was answered`);
        assert.equal(codeName(err.code), "NOT_FOUND", `object ${object}: ${err.details}`);
        assert.match(err.details, /objects: .*calc, Counter, trap, plain$/, `object ${object}`);
      }
      const described = await new Promise<ServiceError | null>((resolve) =>
        typed.describe({ object: "__proto__" }, new Metadata(), { deadline: Date.now() + 5_000 }, (err) =>
          resolve(err),
        ),
      );
      assert.equal(described?.code, Code.NOT_FOUND, "Describe of __proto__");

      // The same over a session: by name, and by ref_id.
      const calls = [
        ...objects.flatMap((object) => PROTOTYPE_NAMES.map((method) => ({ object, method }))),
        ...PROTOTYPE_NAMES.map((object) => ({ object, method: "add" })),
        ...PROTOTYPE_NAMES.map((refId) => ({ refId, method: "add" })),
        ...PROTOTYPE_NAMES.map((method) => ({ refId: "r1", method })),
      ];
      const frame = Buffer.from(
        SessionRequest.encode(
          SessionRequest.fromPartial({
            messages: [
              { release: { refIds: PROTOTYPE_NAMES } },
              ...calls.map((c, i) => ({ call: { id: BigInt(i + 1), ...c, args: [] } })),
            ],
          }),
        ).finish(),
      );
      const { status, responses } = await sessionRaw(raw, [frame], 10_000);
      assert.equal(status.code, Code.OK, `session: ${codeName(status.code)}: ${status.details}`);
      const results = sessionResults(responses);
      assert.equal(results.length, calls.length, "every call is answered");
      for (const m of results) {
        const c = calls[Number(m.result?.id) - 1];
        assert.ok(c, `an answer to a call never made: ${m.result?.id}`);
        const label = JSON.stringify(c);
        assert.ok(m.result?.error, `${label} was answered with a value`);
        const expected =
          "refId" in c || !objects.includes(c.object as string) ? "NOT_FOUND" : "UNIMPLEMENTED";
        assert.equal(codeName(m.result.error.code), expected, `${label}: ${m.result.error.message}`);
      }
    } finally {
      for (const [name, descriptor] of saved) Object.defineProperty(Object.prototype, name, descriptor);
      typed.close();
    }
    assert.deepEqual(ran, [], "a prototype member of an exposed object ran");
    assert.equal(
      Object.getOwnPropertyNames(Object.prototype).join(),
      protoKeys,
      "Object.prototype was changed",
    );
    assert.equal(({} as Record<string, unknown>).add, undefined, "Object.prototype was polluted");
    await assertServing("after prototype names");
  });
});
