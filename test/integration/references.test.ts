import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { credentials, type ServiceError } from "@grpc/grpc-js";
import { connect, type NodeConnection } from "../../client/connect.js";
import type { Remote } from "../../client/proxy.js";
import { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { byReference } from "../../server/references.js";
import { Code } from "../../src/code.js";
import { ObjectsClient } from "../../src/gen/ferry/v1/objects.js";
import { startNode } from "../helpers.js";

class Account {
  balance = 0;
  deposit(amount: number) {
    this.balance += amount;
    return this.balance;
  }
  secret() {
    return "never";
  }
}

class Bank {
  readonly accounts = new Map<string, Account>();
  open(name: string) {
    const account = new Account();
    this.accounts.set(name, account);
    return account;
  }
  total(account: Account) {
    return account.balance;
  }
  note(text: string) {
    return byReference({ text, read: () => text, hidden: () => "no" }, ["read"]);
  }
  async progress(steps: number, report: (done: number) => Promise<unknown>) {
    const answers: unknown[] = [];
    for (let i = 1; i <= steps; i++) answers.push(await report(i));
    return answers;
  }
  async greet(person: { name(): Promise<string> }) {
    return `hello, ${await person.name()}`;
  }
  async callTwice(fn: () => Promise<unknown>) {
    await fn();
    return fn();
  }
}

let node: FerryNode;
let conn: NodeConnection;
let target: string;

before(async () => {
  ({ node, target } = await startNode({ workers: 1 }));
  node.expose("bank", new Bank(), { methods: ["open", "total", "note", "progress", "greet", "callTwice"] });
  node.expose("Account", Account, { methods: ["deposit"], instance: "percall" });
  conn = connect(target);
});

after(async () => {
  conn.close();
  await node.shutdown();
});

test("an instance of an exposed class comes back as a proxy to that very object", async () => {
  const bank = conn.proxy<Bank>("bank");
  const account = (await bank.open("ada")) as unknown as Remote<Account>;
  assert.equal(await account.deposit(10), 10);
  assert.equal(await account.deposit(5), 15);
  assert.equal(String(account), "[Remote r1]");
  // Passed back as an argument, the node sees its own object again.
  assert.equal(await bank.total(account as unknown as Account), 15);
  await assert.rejects(
    Promise.resolve((account as unknown as { secret(): unknown }).secret()),
    (err: unknown) =>
      err instanceof RemoteError && err.code === Code.UNIMPLEMENTED && /methods: deposit/.test(err.details),
  );
  await account[Symbol.asyncDispose]();
  await assert.rejects(
    account.deposit(1),
    (err: unknown) => err instanceof RemoteError && err.code === Code.FAILED_PRECONDITION,
  );
  await assert.rejects(bank.total(account as unknown as Account), (err: unknown) => {
    return err instanceof RemoteError && err.code === Code.NOT_FOUND && /was released/.test(err.details);
  });
});

test("byReference hands out an object with only the methods it names", async () => {
  const bank = conn.proxy<Bank>("bank");
  const note = (await bank.note("remember")) as unknown as Remote<{ read(): string; hidden(): string }>;
  assert.equal(await note.read(), "remember");
  await assert.rejects(
    note.hidden(),
    (err: unknown) => err instanceof RemoteError && err.code === Code.UNIMPLEMENTED,
  );
});

test("a function passed as an argument is called back over the session", async () => {
  const bank = conn.proxy<Bank>("bank");
  const seen: number[] = [];
  const answers = await bank.progress(3, async (done) => {
    seen.push(done);
    return done * 10;
  });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(answers, [10, 20, 30]);
});

test("a local object passed as an argument is called back by method", async () => {
  const bank = conn.proxy<Bank>("bank");
  class Person {
    name() {
      return "Grace";
    }
  }
  assert.equal(await bank.greet(new Person() as never), "hello, Grace");
});

test("a callback that throws fails the node's await with the callback's message", async () => {
  const bank = conn.proxy<Bank>("bank");
  let calls = 0;
  await assert.rejects(
    bank.callTwice(async () => {
      calls++;
      if (calls === 2) throw new Error("client-side trouble");
      return 1;
    }),
    (err: unknown) => err instanceof RemoteError && /callback failed: client-side trouble/.test(err.details),
  );
  assert.equal(calls, 2);
});

test("unary Invoke has no session: objects cannot come back by reference", async () => {
  const raw = new ObjectsClient(target, credentials.createInsecure());
  try {
    const err = await new Promise<ServiceError | null>((resolve) =>
      raw.invoke({ object: "bank", method: "open", args: [{ stringValue: "x" }] }, (e) => resolve(e)),
    );
    assert.equal(err?.code, Code.INVALID_ARGUMENT);
    assert.match(err?.details ?? "", /result: a Account cannot be sent by value/);
  } finally {
    raw.close();
  }
});
