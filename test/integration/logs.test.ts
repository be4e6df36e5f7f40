/**
 * One logger for the node and the CLI: pretty lines by default, JSON objects
 * with --log-format json, a level below which nothing is written, an access
 * log that is off unless asked, and never a token in any line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "../../client/connect.js";
import { RemoteError } from "../../client/remote-error.js";
import { createNode, type FerryNode } from "../../server/create-node.js";
import type { NodeOptions } from "../../server/node-options.js";
import { Code } from "../../src/code.js";
import { runCli } from "../helpers.js";

class Calc {
  add(a: number, b: number) {
    return a + b;
  }
  broken() {
    throw new Error("a bug inside");
  }
}

async function withNode(
  options: NodeOptions,
  run: (node: FerryNode, target: string) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  const node = createNode({ port: 0, workers: 1, log: (line) => lines.push(line), ...options });
  node.expose("calc", new Calc(), { methods: ["add", "broken"] });
  const { target } = await node.listen();
  try {
    await run(node, target);
  } finally {
    await node.shutdown();
  }
  return lines;
}

test("json lines are objects with level, time, name and message, and no token in any of them", async () => {
  const token = "t0p-s3cret-value";
  const lines = await withNode({ logFormat: "json", token, accessLog: true }, async (_node, target) => {
    const stranger = connect(target, { token: "wrong-guess-123" });
    await assert.rejects(
      stranger.proxy<Calc>("calc").add(1, 2),
      (err: RemoteError) => err.code === Code.UNAUTHENTICATED,
    );
    stranger.close();
    const friend = connect(target, { token });
    assert.equal(await friend.proxy<Calc>("calc").add(1, 2), 3);
    await assert.rejects(friend.proxy<Calc>("calc").broken(), RemoteError);
    friend.close();
  });
  const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const o of objects) {
    assert.equal(o.name, "ferry node");
    assert.equal(typeof o.time, "number");
    assert.equal(typeof o.level, "number");
    assert.equal(typeof o.msg, "string");
  }
  const refused = objects.find((o) => o.event === "refused");
  assert.match(String(refused?.msg), /refused .* a wrong token/);
  assert.equal(refused?.level, 40, "a refusal is a warning");
  const call = objects.find((o) => o.event === "call" && o.method === "add");
  assert.deepEqual([call?.object, call?.code, call?.entries], ["calc", "OK", 1]);
  assert.match(String(call?.peer), /^(ipv4:)?127\.0\.0\.1:\d+$/);
  const failed = objects.find((o) => o.event === "call failed");
  assert.equal(failed?.level, 50, "an unknown error is logged as an error");
  assert.match(String(failed?.msg), /calc\.broken failed: Error: a bug inside/);
  for (const line of lines) {
    assert.doesNotMatch(line, /t0p-s3cret-value|wrong-guess-123/, "a token reached the log");
  }
});

test("pretty lines by default; no access log unless asked; nothing below the level", async () => {
  const quiet = await withNode({}, async (_node, target) => {
    const conn = connect(target);
    assert.equal(await conn.proxy<Calc>("calc").add(2, 2), 4);
    await assert.rejects(conn.proxy<Calc>("calc").broken(), RemoteError);
    conn.close();
  });
  assert.deepEqual(
    quiet.filter((l) => !l.includes("failed")),
    [],
    `only the failure is logged: ${quiet.join(" | ")}`,
  );
  assert.match(quiet[0] ?? "", /^ferry node: calc\.broken failed: Error: a bug inside/);

  const warnOnly = await withNode({ accessLog: true, logLevel: "warn" }, async (_node, target) => {
    const conn = connect(target);
    assert.equal(await conn.proxy<Calc>("calc").add(2, 2), 4);
    conn.close();
  });
  assert.deepEqual(warnOnly, [], "an access line is info, below warn");

  const logged = await withNode({ accessLog: true }, async (_node, target) => {
    const conn = connect(target);
    assert.equal(await conn.proxy<Calc>("calc").add(2, 2), 4);
    conn.close();
  });
  assert.match(logged.find((l) => l.includes("calc.add")) ?? "", /^ferry node: calc\.add OK [\d.]+ ms from /);
});

test("a wrong --log-format or --log-level is one line in the CLI's words, exit 2", async () => {
  for (const [flag, value, words] of [
    ["--log-format", "yaml", /^ferry: --log-format must be pretty or json, got "yaml"\n$/],
    ["--log-level", "loud", /^ferry: --log-level must be debug, info, warn, error or silent, got "loud"\n$/],
  ] as const) {
    const out = await runCli(["node", "--port", "0", flag, value]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, words);
  }
  assert.throws(() => createNode({ logLevel: "loud" as never }), /^OptionError: logLevel must be/);
});
