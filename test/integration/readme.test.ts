// The README's first run, as written: its shell block starts the nodes, and
// its TypeScript blocks run against them, importing "ferry" (the package
// itself, through its exports: `make test` builds dist first). Only the
// ports change, to free ones.

import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { ROOT, runNode, spawnNode } from "../helpers.js";

/** The fenced blocks of the README's "First run" section, with their languages. */
function firstRun(): { lang: string; code: string }[] {
  const readme = readFileSync(`${ROOT}README.md`, "utf8");
  const start = readme.indexOf("\n## First run\n");
  assert.ok(start >= 0, "README has a First run section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] as string,
    code: m[2] as string,
  }));
}

async function runSnippet(code: string, name: string): Promise<string> {
  // Inside the repository, so "ferry" resolves to this package.
  const file = `${ROOT}test/${name}.tmp.ts`;
  writeFileSync(file, code);
  try {
    const run = await runNode(["--import", "tsx", file]);
    assert.equal(run.code, 0, `${name} failed:\n${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

test("the README's first run works as written", async () => {
  const blocks = firstRun();
  const shell = blocks.find((b) => b.lang === "");
  const scripts = blocks.filter((b) => b.lang === "ts").map((b) => b.code);
  assert.ok(shell, "a shell block starts the nodes");
  assert.equal(scripts.length, 2, "a client and a map");
  const ports = [...shell.code.matchAll(/^npx ferry node --port (\d+)$/gm)].map((m) => m[1] as string);
  assert.deepEqual(ports, ["50051", "50052"]);
  const nodes = [await spawnNode(), await spawnNode()];
  try {
    const onFreePorts = (code: string) =>
      ports.reduce((text, port, i) => text.replaceAll(`127.0.0.1:${port}`, nodes[i]?.target as string), code);
    const client = await runSnippet(onFreePorts(scripts[0] as string), "readme-client");
    assert.match(client, /^true \d+\.\d{3} s\n$/);
    const map = await runSnippet(onFreePorts(scripts[1] as string), "readme-map");
    assert.deepEqual(map.trim().split("\n"), [
      "2 is prime",
      "142702110479723 is prime",
      "9999999999999917 is prime",
      "9999999999999999 = 3 x ...",
    ]);
  } finally {
    for (const node of nodes) {
      node.child.kill("SIGTERM");
      await once(node.child, "exit");
    }
  }
});

test("a script that calls remote objects exits when it is done, without close()", async () => {
  const { child, target } = await spawnNode(["--workers", "1", "--load", `${ROOT}test/fixtures/objects.js`]);
  try {
    // The README's remote-objects client, as a newcomer first writes it: no close().
    const out = await runSnippet(
      `import { connect } from "ferry";
const conn = connect("ferry://${target}/Calculator");
await using calc = conn.proxy<{ add(a: number, b: number): number }>();
console.log(await calc.add(2, 3));
const again = connect("${target}").proxy<{ add(a: number, b: number): number }>("Calculator");
console.log(await again.add(4, 5));
`,
      "readme-objects",
    );
    assert.deepEqual(out.trim().split("\n"), ["5", "9"]);
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});
