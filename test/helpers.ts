import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createNode, type FerryNode } from "../server/create-node.js";
import type { NodeOptions } from "../server/node-options.js";

/** A promise with its resolve/reject exposed, for ordering steps of a test without sleeping. */
export function defer<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A node on 127.0.0.1 with a free port; stop it with `node.shutdown()`. */
export async function startNode(options: NodeOptions = {}): Promise<{ node: FerryNode; target: string }> {
  const node = createNode({ port: 0, workers: 2, log: () => {}, ...options });
  const { target } = await node.listen();
  return { node, target };
}

export { BOOK_NUMBERS, BOOK_PRIMES } from "../src/book-numbers.js";

/** Smallest divisor of n by plain BigInt trial division (for checking answers; slow for big primes). */
export function smallestDivisorSlow(n: bigint): bigint {
  if (n % 2n === 0n) return n === 2n ? 0n : 2n;
  for (let d = 3n; d * d <= n; d += 2n) if (n % d === 0n) return d;
  return 0n;
}

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs the compiled CLI (`bin/ferry.js`; `make build` first) and collects its output. */
export function runCli(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode([`${ROOT}bin/ferry.js`, ...args], input);
}

/** Runs `node` with these arguments (in `cwd`, default this process's) and collects its output. */
export async function runNode(
  args: string[],
  input?: string,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(input ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** Starts `ferry node --port 0 --json` as a child process and waits for its address. */
export async function spawnNode(args: string[] = []): Promise<{ child: ChildProcess; target: string }> {
  const child = spawn(process.execPath, [`${ROOT}bin/ferry.js`, "node", "--port", "0", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`ferry node exited with ${code} before listening`);
  });
  const first = (async () => {
    for await (const line of lines) return JSON.parse(line) as { listening: string };
    throw new Error("ferry node printed nothing");
  })();
  const { listening } = await Promise.race([first, exited]);
  exited.catch(() => {});
  return { child, target: listening };
}

/** `promise`, or a failure naming `what` once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `call(0)`, `call(1)`, … one after another until stopped; `stop()` gives how many were made. */
export function keepCalling(call: (n: number) => Promise<unknown>): { stop(): Promise<number> } {
  let calling = true;
  const calls = (async () => {
    let n = 0;
    while (calling) {
      await call(n);
      n++;
    }
    return n;
  })();
  return {
    stop() {
      calling = false;
      return calls;
    },
  };
}
