import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./page-server.mjs", import.meta.url));

/** A page server in a process of its own (demo/page-server.mjs) and how to stop it. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`; pages are `${base}/<n>`. */
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts demo/page-server.mjs answering every page after `delayMs`. */
export async function startPageServer(delayMs: number): Promise<PageServer> {
  const child = spawn(process.execPath, [SCRIPT, String(delayMs)], { stdio: ["pipe", "pipe", "inherit"] });
  const [port] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line")) as [
    string,
  ];
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.stdin?.end();
      await exited;
    },
  };
}
