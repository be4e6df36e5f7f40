// Draws docs/dashboard.png, the README's picture of `ferry dashboard`: two
// nodes, a map running over them, in Debian's
// chromium. Run: npx tsx scripts/dashboard-screenshot.ts
import { chromium } from "playwright-core";
import { ClusterWatch, createNode, createPool, serveDashboard } from "../index.js";

class Work {
  async sq(x: number) {
    await new Promise((resolve) => setTimeout(resolve, 2 + (x % 7)));
    return x * x;
  }
  slow(x: number) {
    const end = performance.now() + 20;
    while (performance.now() < end);
    return x;
  }
}

const nodes = await Promise.all(
  [0, 1].map(async () => {
    const node = createNode({ port: 0, workers: 2 });
    node.expose("work", new Work(), { methods: ["sq", "slow"] });
    const { target } = await node.listen();
    return { node, target };
  }),
);
const pool = createPool({ nodes: nodes.map((n) => n.target) });
const watch = new ClusterWatch(pool);
const dashboard = await serveDashboard(watch, { host: "127.0.0.1", port: 0, title: pool.nodes.join(",") });
const items = Array.from({ length: 400_000 }, (_, i) => i);
const map = (async () => {
  for await (const _ of pool.imapUnordered("work.sq", items));
})();
const browser = await chromium.launch({ executablePath: process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium" });
const page = await browser.newPage({ viewport: { width: 1280, height: 560 }, deviceScaleFactor: 1 });
await page.goto(dashboard.url);
await page.waitForTimeout(5_000);
await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname, fullPage: true });
await browser.close();
await pool.close();
await map.catch(() => {});
await dashboard.close();
watch.close();
await Promise.all(nodes.map((n) => n.node.shutdown()));
