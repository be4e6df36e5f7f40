/**
 * How soon the dashboard shows a node join and leave, in headless Chromium:
 * `ferry dashboard`'s page over two listed nodes, one of which starts
 * (listening) and stops (SIGTERM) five times; each time the page is polled
 * until that node's row says up, then down. Then the bytes of its script
 * and style.
 */
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { ClusterWatch, createPool, serveDashboard } from "../dist/index.js";
import { freePort } from "../test/etcd-server.js";
import { startNode, stopNode } from "./nodes.js";

const TIMES = 5;

async function until(check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > 30_000) throw new Error("the page never showed it");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

const stay = await startNode(1);
const port = await freePort();
const pool = createPool({ nodes: [stay.target, `127.0.0.1:${port}`] });
const watch = new ClusterWatch(pool);
const dashboard = await serveDashboard(watch, { host: "127.0.0.1", port: 0 });
const browser = await chromium.launch({ executablePath: process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium" });
const page = await browser.newPage();
await page.goto(dashboard.url);
const stateOf = () => page.getAttribute(`#nodes tr[data-target="127.0.0.1:${port}"]`, "data-state");

console.log("== The dashboard: a node joining and leaving, seen on the page (1 s samples)");
const joins: number[] = [];
const leaves: number[] = [];
for (let i = 0; i < TIMES; i++) {
  const node = await startNode(1, ["--port", String(port)]);
  joins.push(await until(async () => (await stateOf()) === "up"));
  const stopped = stopNode(node.child);
  leaves.push(await until(async () => (await stateOf()) === "down"));
  await stopped;
}
const show = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${(sorted[Math.floor(sorted.length / 2)] as number).toFixed(0)} ms, max ${(sorted.at(-1) as number).toFixed(0)} ms`;
};
console.log(`  join  (listening, row up):      ${show(joins)}`);
console.log(`  leave (SIGTERM, row down):      ${show(leaves)}`);
const bytes = ["dashboard.js", "dashboard.css"].map(
  (f) => readFileSync(new URL(`../dashboard/${f}`, import.meta.url)).length,
);
console.log(
  `  page: dashboard.js ${bytes[0]} B + dashboard.css ${bytes[1]} B = ${(((bytes[0] as number) + (bytes[1] as number)) / 1024).toFixed(1)} KB (limit 100 KB)`,
);

await browser.close();
await dashboard.close();
watch.close();
pool.close();
await stopNode(stay.child);
