/**
 * When a map's results arrive: two local nodes (`--workers 1`), a map of
 * 2,000 / 20,000 / 60,000 items through imapUnordered, of a 5 ms async
 * method (Work.sq5) and of a trivial one (Work.square), with the time to
 * the first result and to each tenth, and items/s. Results that all come
 * at the end show as a 10% close to the whole map's time.
 */
import { createPool } from "../dist/index.js";
import { POOL_FIXTURE, startNode, stopNode } from "./nodes.js";

const SIZES = [2_000, 20_000, 60_000];
const ROUNDS = 3;

const nodes = await Promise.all([0, 1].map(() => startNode(1, ["--load", POOL_FIXTURE])));
const pool = createPool({ nodes: nodes.map((n) => n.target) });
await pool.ready();

/** One map: the seconds at which the first result and each tenth arrived. */
async function run(method: string, count: number): Promise<number[]> {
  const items = Array.from({ length: count }, (_, i) => i);
  const marks = [1, ...Array.from({ length: 10 }, (_, i) => Math.ceil(((i + 1) * count) / 10))];
  const times: number[] = [];
  const started = performance.now();
  let seen = 0;
  for await (const _ of pool.imapUnordered(method, items)) {
    seen++;
    while (marks[times.length] === seen) times.push((performance.now() - started) / 1000);
  }
  return times;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
/** Seconds as whole milliseconds. */
const ms = (seconds: number) => `${Math.round(seconds * 1000)}`;

for (const [label, method] of [
  ["5 ms async items (Work.sq5)", "Work.sq5"],
  ["trivial items (Work.square)", "Work.square"],
] as const) {
  console.log(
    `== When results arrive: ${label}, two nodes, imapUnordered, median of ${ROUNDS}, ms from the call`,
  );
  console.log(
    `  items   first ${Array.from({ length: 9 }, (_, i) => `${(i + 1) * 10}%`.padStart(6)).join("")}    all  items/s  10%/all  50%/all`,
  );
  // Warm up on a large map, so that each size is measured with the nodes' and client's code compiled.
  await run(method, 20_000);
  const rates = new Map<number, number>();
  for (const count of SIZES) {
    const runs: number[][] = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await run(method, count));
    const at = (mark: number) => median(runs.map((t) => t[mark] as number));
    const all = at(10);
    rates.set(count, count / all);
    const marks = Array.from({ length: 11 }, (_, mark) => ms(at(mark)).padStart(6)).join("");
    const rate = Math.round(count / all).toLocaleString("en");
    console.log(
      `  ${count.toLocaleString("en").padStart(6)}${marks} ${rate.padStart(8)}  ${(at(1) / all).toFixed(2).padStart(7)}  ${(at(5) / all).toFixed(2).padStart(7)}`,
    );
  }
  const [small, large] = [SIZES[0] as number, SIZES.at(-1) as number];
  const ratio = (rates.get(small) ?? 0) / (rates.get(large) ?? 1);
  console.log(
    `  ${small.toLocaleString("en")} items at ${(100 * ratio).toFixed(0)}% of the items/s of ${large.toLocaleString("en")}`,
  );
}

pool.close();
await Promise.all(nodes.map((n) => stopNode(n.child)));
