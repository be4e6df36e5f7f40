/**
 * What metrics cost a node: session calls (Calculator.add) against a node
 * serving /metrics, scraped every second as Prometheus would, and against
 * one without, side by side in alternating rounds; then each node's RSS.
 */
import { readFileSync } from "node:fs";
import { connect } from "../dist/index.js";
import { type Figures, fmt, measure, medianFigures as median } from "./measure.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const ROUNDS = 7;

const rssMb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

console.log("== Session calls (Calculator.add) with /metrics scraped every second vs without (2 workers)");
const on = await startNode(2, ["--load", FIXTURE, "--metrics", "0"]);
const off = await startNode(2, ["--load", FIXTURE]);
const metricsAt = (JSON.parse(on.line) as { metrics: string }).metrics;
const scrape = setInterval(() => void fetch(`http://${metricsAt}/metrics`).then((r) => r.text()), 1000);
const nodes = [on, off].map((node) => {
  const conn = connect(node.target);
  const calc = conn.proxy<{ add(a: number, b: number): number }>("Calculator");
  return { conn, add: () => calc.add(1, 2) };
});
for (const { add } of nodes) await measure(5000, 64, add);
const rows: [string, number, number, Figures[][]][] = [
  ["sequential", 10_000, 1, [[], []]],
  ["64 in flight", 50_000, 64, [[], []]],
];
for (let round = 0; round < ROUNDS; round++) {
  for (const [, total, concurrency, runs] of rows) {
    for (const [i, { add }] of nodes.entries()) runs[i]?.push(await measure(total, concurrency, add));
  }
}
for (const [label, , , [withMetrics, without]] of rows) {
  const a = median(withMetrics as Figures[]);
  const b = median(without as Figures[]);
  console.log(`  ${label.padEnd(13)} metrics on   ${fmt(a)}`);
  console.log(`  ${label.padEnd(13)} metrics off  ${fmt(b)}   on/off ${(a.rate / b.rate).toFixed(3)}`);
}
clearInterval(scrape);
await new Promise((resolve) => setTimeout(resolve, 1000));
console.log(
  `  RSS after the run: metrics on ${rssMb(on.child.pid).toFixed(0)} MB, off ${rssMb(off.child.pid).toFixed(0)} MB`,
);
for (const { conn } of nodes) conn.close();
await stopNode(on.child);
await stopNode(off.child);
