/**
 * A file that reaches 400 lines is doing two jobs (STYLE.md, 20): no .ts file
 * in client/, server/ or src/ (src/gen aside) passes 400 lines unless its
 * opening comment says why, in words that contain "longer than 400 lines".
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers.js";

const MAX_LINES = 400;
const REASON = "longer than 400 lines";

/** The text of the comment that opens `text` (block or `//` lines), markers stripped; "" when code comes first. */
function openingComment(text: string): string {
  const block = /^\s*\/\*([\s\S]*?)\*\//.exec(text);
  if (block) return (block[1] as string).replace(/^\s*\*+/gm, " ");
  const lines = /^\s*((?:[ \t]*\/\/.*(?:\r?\n|$))+)/.exec(text);
  return lines ? (lines[1] as string).replace(/^\s*\/\/+/gm, " ") : "";
}

/** Lines of `text`; a final newline ends the last line rather than starting another. */
function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Why the file at `path` is too long, or undefined when it is not (or its opening comment gives the reason). */
function sizeProblem(path: string, text: string): string | undefined {
  const lines = lineCount(text);
  if (lines <= MAX_LINES) return undefined;
  const reason = openingComment(text).replace(/\s+/g, " ").toLowerCase();
  if (reason.includes(REASON)) return undefined;
  return `${path} has ${lines} lines; its opening comment must say why it is ${REASON}, or it must be split`;
}

test("sizeProblem: more than 400 lines needs a reason in the opening comment", () => {
  const body = (n: number) => "const x = 1;\n".repeat(n);
  const cases: [string, string, boolean][] = [
    ["400 lines, no comment", body(400), true],
    ["400 lines, no final newline", body(400).slice(0, -1), true],
    ["401 lines, no comment", body(401), false],
    ["401 lines, an opening comment without the reason", `/** Pools. */\n${body(400)}`, false],
    [
      "401 lines, the reason wrapped in a JSDoc",
      `/**\n * One state machine: it is longer than\n * 400 lines because splitting it hides its order.\n */\n${body(397)}`,
      true,
    ],
    ["401 lines, the reason in // lines", `// Longer than 400 lines: one table.\n${body(400)}`, true],
    [
      "401 lines, the reason in a later comment only",
      `import "x";\n/** longer than 400 lines */\n${body(399)}`,
      false,
    ],
    [
      "401 lines, the reason in a second comment block",
      `/** Pools. */\n/** longer than 400 lines */\n${body(399)}`,
      false,
    ],
  ];
  for (const [name, text, ok] of cases) {
    const problem = sizeProblem("client/x.ts", text);
    assert.equal(problem === undefined, ok, `${name}: ${problem ?? "passes"}`);
  }
  assert.match(sizeProblem("client/x.ts", body(401)) ?? "", /^client\/x\.ts has 401 lines/);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path === join(ROOT, "src", "gen") ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

test("no file in client/, server/ or src/ passes 400 lines without saying why", () => {
  const files = ["client", "server", "src"].flatMap((dir) => sources(join(ROOT, dir)));
  assert.ok(files.length > 0, "no source files found");
  const problems = files.flatMap(
    (file) => sizeProblem(relative(ROOT, file), readFileSync(file, "utf8")) ?? [],
  );
  assert.deepEqual(problems, []);
});
