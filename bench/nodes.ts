/** Nodes for the benchmarks: the compiled CLI in its own process, as users run it. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/ferry.js", import.meta.url));

/** Objects the bench nodes load with `--load`. */
export const FIXTURE = fileURLToPath(new URL("../test/fixtures/objects.js", import.meta.url));
export const POOL_FIXTURE = fileURLToPath(new URL("../test/fixtures/pool-objects.js", import.meta.url));

/** Starts `ferry node --port 0` and waits for the address it prints. */
export async function startNode(
  workers: number,
  extra: string[] = [],
  nodeFlags: string[] = [],
  bin = BIN,
): Promise<{ child: ChildProcess; target: string; readyMs: number; line: string }> {
  const started = performance.now();
  const args = [...nodeFlags, bin, "node", "--port", "0", "--json", "--workers", String(workers), ...extra];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line")) as [
    string,
  ];
  return {
    child,
    target: (JSON.parse(line) as { listening: string }).listening,
    readyMs: performance.now() - started,
    line,
  };
}

/** Stops a node with SIGTERM and waits for it to exit. */
export async function stopNode(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await once(child, "exit");
}
