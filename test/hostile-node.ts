/**
 * The node the hostile-input tests (test/integration/hostile-*.test.ts)
 * attack, with what it exposes, and its well-behaved client. The client
 * connects before any attack; after every attack the node must still serve
 * it, and it must keep its session (its session-mode Counter keeps counting).
 * Each test file starts its own node with `startHostileNode` and closes it in
 * `after`.
 */
import assert from "node:assert/strict";
import type { Client } from "@grpc/grpc-js";
import { connect } from "../client/connect.js";
import { currentCall } from "../server/call-context.js";
import type { FerryNode } from "../server/create-node.js";
import { startNode, within } from "./helpers.js";
import { rawObjectsClient, waitFor } from "./hostile-wire.js";

export const MIB = 1024 * 1024;

export class Calculator {
  /** Calls of `wait` that began and that ended on this instance (not exposed: only methods are). */
  readonly waits = { started: 0, finished: 0 };
  add(a: number, b: number) {
    return a + b;
  }
  echo(value: unknown) {
    return value;
  }
  /** Waits until its call is cancelled (or times out). */
  async wait() {
    const { signal } = currentCall();
    this.waits.started++;
    try {
      await new Promise((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    } finally {
      this.waits.finished++;
    }
  }
  /** A preallocated list: `new Array(n)` has holes, not undefined items. */
  gaps(n: number) {
    return new Array(Math.min(n, 10));
  }
  /** A string of n characters (at most 3 MB). */
  big(n: number) {
    return "y".repeat(Math.min(n, 3_000_000));
  }
}

export class Counter {
  count = 0;
  increment() {
    return ++this.count;
  }
}

/** Names an attacker aims at the prototype, as object names, method names and ref ids. */
export const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "prototype",
  "then",
];

/**
 * Two objects that only expose `add`: `trap`, whose own members shadow
 * prototype names and record in `ran` any call that reaches them, and
 * `plain`, whose other names are Object.prototype's. `expose` puts them on a
 * node as "trap" and "plain".
 */
export function prototypeTraps(): {
  ran: string[];
  trap: Record<string, unknown>;
  plain: { add: (a: number, b: number) => number };
  expose: (node: FerryNode) => void;
} {
  const ran: string[] = [];
  const trapped = (name: string) =>
    function trap(this: unknown) {
      ran.push(`trap.${name}`);
      return "ran";
    };
  const trap: Record<string, unknown> = {
    add: (a: number, b: number) => a + b,
    constructor: trapped("constructor"),
    prototype: trapped("prototype"),
    toString: trapped("toString"),
    valueOf: trapped("valueOf"),
    hasOwnProperty: trapped("hasOwnProperty"),
    __defineGetter__: trapped("__defineGetter__"),
  };
  // biome-ignore lint/suspicious/noThenProperty: a trap that records any call of "then" on the exposed object
  trap.then = trapped("then");
  Object.defineProperty(trap, "__proto__", { value: trapped("__proto__"), enumerable: true, writable: true });
  const plain = { add: (a: number, b: number) => a + b };
  const expose = (node: FerryNode) => {
    node.expose("trap", trap, { methods: ["add"] });
    node.expose("plain", plain, { methods: ["add"] });
  };
  return { ran, trap, plain, expose };
}

/** A node under attack, its raw-bytes client, and the checks its good client makes. */
export interface HostileNode {
  node: FerryNode;
  target: string;
  port: number;
  /** The exposed "calc". */
  calculator: Calculator;
  /** Objects.Invoke and Objects.Session of raw bytes (see hostile-wire.ts). */
  raw: Client;
  /** One call of each kind from the good client: a proxy call and PrimeChecker.IsPrime. */
  goodCall(when: string): Promise<void>;
  /** The good client still gets answers and still has its session (its Counter keeps counting). */
  assertServing(when: string): Promise<void>;
  /** Every call the node counts has ended. */
  assertSettled(when: string): Promise<void>;
  /** Closes both clients and shuts the node down. */
  close(): Promise<void>;
}

/**
 * Starts a node (one worker) exposing "calc" and the session-mode "Counter",
 * then whatever `expose` adds, and connects the good client, which makes its
 * first calls before this returns.
 */
export async function startHostileNode(expose: (node: FerryNode) => void = () => {}): Promise<HostileNode> {
  const { node, target } = await startNode({ workers: 1 });
  const port = Number(target.slice(target.lastIndexOf(":") + 1));
  const calculator = new Calculator();
  node.expose("calc", calculator, { methods: ["add", "echo", "wait", "gaps", "big"] });
  node.expose("Counter", Counter, { methods: ["increment"], instance: "session" });
  expose(node);
  /** Connected before any attack; its own channel (a distinct option keeps it off the shared one). */
  const good = connect(target, { defaultTimeoutMs: 10_000, maxMessageBytes: 4 * MIB + 1 });
  const goodCalc = good.proxy<Calculator>("calc");
  const goodCounter = good.proxy<Counter>("Counter");
  let goodCount = 0;
  const raw = rawObjectsClient(target);

  const goodCall = async (when: string): Promise<void> => {
    const [sum, prime] = await within(
      Promise.all([goodCalc.add(2, 3), good.primes.isPrime({ n: 1_000_000_007n }, { timeoutMs: 10_000 })]),
      15_000,
      `the good client's calls ${when}`,
    );
    assert.equal(sum, 5, `calc.add ${when}`);
    assert.equal(prime.prime, true, `PrimeChecker.IsPrime ${when}`);
  };
  const assertServing = async (when: string): Promise<void> => {
    await goodCall(when);
    goodCount++;
    const count = await within(goodCounter.increment(), 10_000, `the good client's Counter ${when}`);
    assert.equal(
      count,
      goodCount,
      `the good client's session (and its session-mode Counter) survived ${when}`,
    );
  };
  const assertSettled = async (when: string): Promise<void> => {
    await waitFor(
      () => node.inFlight === 0,
      10_000,
      () => `node.inFlight to return to 0 ${when} (it is ${node.inFlight})`,
    );
  };
  const close = async (): Promise<void> => {
    raw.close();
    good.close();
    await node.shutdown(2_000);
  };

  try {
    await assertServing("before any attack");
  } catch (err) {
    await close();
    throw err;
  }
  return { node, target, port, calculator, raw, goodCall, assertServing, assertSettled, close };
}
