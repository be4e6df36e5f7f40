import assert from "node:assert/strict";
import { test } from "node:test";
import { Progress } from "../../cli/progress.js";

/** What a Progress draws on a terminal's stderr while `run` runs. */
function drawn(run: () => void, tty = true): string {
  const stderr = process.stderr as { isTTY?: boolean; write: typeof process.stderr.write };
  const { isTTY, write } = stderr;
  let out = "";
  stderr.isTTY = tty;
  stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    run();
  } finally {
    stderr.isTTY = isTTY;
    stderr.write = write;
  }
  return out;
}

test("ferry pi's progress counts samples, with each node's share", () => {
  const out = drawn(() => {
    const progress = new Progress(100_000_000_000, true, "samples");
    progress.item("a:1", true, 2_000_000_000);
    progress.end();
  });
  assert.match(out, /\[#*\.+\] 2\.00 G\/100\.00 G samples [\d.]+ G\/s eta .* a:1 100%/);
});

test("--no-progress and a non-terminal draw nothing", () => {
  assert.equal(
    drawn(() => new Progress(10, false).item("a:1", true)),
    "",
  );
  assert.equal(
    drawn(() => new Progress(10, true).item("a:1", true), false),
    "",
  );
});

test("ferry map's progress takes each node's share from the pool", () => {
  const stats = [
    { target: "a:1", items: 3 },
    { target: "b:2", items: 1 },
  ];
  const out = drawn(() => new Progress(undefined, true, "", () => stats as never).item("", true));
  assert.match(out, /a:1 75% b:2 25%/);
});
