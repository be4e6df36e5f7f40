/**
 * 1,000 concurrent clients, each its own connection, calling one node
 * (2 workers, its own process) in closed loops for 30 s, from 4 client
 * processes: calls/s, failed calls by code, p50/p99 latency, and the node's
 * RSS before and after. `tsx bench/load.ts [clients] [seconds]`.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startNode, stopNode } from "./nodes.js";

const clients = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 30);
const PROCESSES = 4;
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

console.log(
  `\n== ${clients} concurrent clients (own connections), closed loops for ${seconds} s, one node of 2 workers`,
);
const node = await startNode(2);
const pid = node.child.pid as number;
const before = rssMb(pid);
const script = fileURLToPath(new URL("./load-client.ts", import.meta.url));
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: PROCESSES }, async () => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, script, node.target, String(clients / PROCESSES), String(seconds)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(
      createInterface({ input: child.stdout as NodeJS.ReadableStream }),
      "line",
    )) as [string];
    return JSON.parse(line) as {
      calls: number;
      failures: Record<string, number>;
      p50: number;
      p99: number;
      max: number;
    };
  }),
);
const wall = (performance.now() - started) / 1000;
const during = rssMb(pid);
const calls = results.reduce((sum, r) => sum + r.calls, 0);
const failures: Record<string, number> = {};
for (const r of results)
  for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n;
const failed = Object.values(failures).reduce((a, b) => a + b, 0);
console.log(
  `  ${calls.toLocaleString("en")} calls in ${wall.toFixed(1)} s: ${Math.round(calls / wall).toLocaleString("en")} calls/s; failed ${failed}${failed ? ` ${JSON.stringify(failures)}` : ""}`,
);
console.log(
  `  latency p50 ${Math.max(...results.map((r) => r.p50)).toFixed(1)} ms, p99 ${Math.max(...results.map((r) => r.p99)).toFixed(1)} ms (worst client process), max ${Math.max(...results.map((r) => r.max)).toFixed(0)} ms`,
);
console.log(`  node RSS: ${before.toFixed(0)} MB idle, ${during.toFixed(0)} MB after the load`);
await stopNode(node.child);
process.exit(0);
