/**
 * What trace context costs with no OpenTelemetry SDK registered: session
 * calls (Calculator.add) from this build against this build's node, and
 * from the build at FERRY_BASELINE (a checkout without tracing, built)
 * against its own node, side by side in alternating rounds.
 */
import { fileURLToPath } from "node:url";
import { type Figures, fmt, measure, medianFigures as median } from "./measure.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const ROUNDS = 7;
const baseline = process.env.FERRY_BASELINE;
if (!baseline) throw new Error("set FERRY_BASELINE to a built checkout to compare with");
const here = fileURLToPath(new URL("..", import.meta.url));

const builds = await Promise.all(
  [here, `${baseline.replace(/\/$/, "")}/`].map(async (root) => {
    const { connect } = (await import(`${root}dist/index.js`)) as typeof import("../dist/index.js");
    const node = await startNode(1, ["--load", FIXTURE], [], `${root}bin/ferry.js`);
    const conn = connect(node.target);
    const calc = conn.proxy<{ add(a: number, b: number): number }>("Calculator");
    return { root, node, conn, add: () => calc.add(1, 2) };
  }),
);
console.log("== Session calls (Calculator.add), no OpenTelemetry SDK: this build vs the baseline");
for (const { add } of builds) await measure(5000, 64, add);
const rows: [string, number, number, Figures[][]][] = [
  ["sequential", 10_000, 1, [[], []]],
  ["64 in flight", 50_000, 64, [[], []]],
];
for (let round = 0; round < ROUNDS; round++) {
  for (const [, total, concurrency, runs] of rows) {
    for (const [i, { add }] of builds.entries()) runs[i]?.push(await measure(total, concurrency, add));
  }
}
for (const [label, , , [now, before]] of rows) {
  const a = median(now as Figures[]);
  const b = median(before as Figures[]);
  console.log(`  ${label.padEnd(13)} this build  ${fmt(a)}`);
  console.log(`  ${label.padEnd(13)} baseline    ${fmt(b)}   this/baseline ${(a.rate / b.rate).toFixed(3)}`);
}
for (const { conn, node } of builds) {
  conn.close();
  await stopNode(node.child);
}
