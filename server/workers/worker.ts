import { parentPort, workerData } from "node:worker_threads";
import { CancelledError, isCancelled } from "../../src/kernels/cancel.js";
import { isPrimeMillerRabin } from "../../src/kernels/miller-rabin.js";
import { countInside } from "../../src/kernels/pi.js";
import { isPrimeByTrialDivision, smallestDivisorInRange } from "../../src/kernels/trial-division.js";
import { toThrown } from "./thrown-error.js";
import { runCall } from "./worker-call.js";
import { WorkerModules } from "./worker-modules.js";
import type { FromWorker, KernelResult, KernelTask, ToWorker, WorkerStart } from "./worker-task.js";

// Entry point of every worker thread of a node: built-in kernels and users'
// exposed modules run here, one task at a time, as the main thread asks.

const port = parentPort;
if (!port) throw new Error("server/workers/worker.ts runs only as a node's worker thread");
const start = workerData as WorkerStart;
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? []);
const modules = new WorkerModules();
/** Calls running now, by task, to tell them of cancels and stream credit. */
const calls = new Map<number, { cancel(): void; more(items: number): void }>();

function runKernel(task: KernelTask, flag: Int32Array): KernelResult {
  // A task whose call was cancelled while it waited in the queue must not start.
  if (isCancelled(flag)) return { kind: "cancelled" };
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  try {
    switch (task.kind) {
      case "trial-division": {
        const { prime, divisor } = isPrimeByTrialDivision(task.n, flag);
        return { kind: "prime", prime, divisor, seconds: seconds() };
      }
      case "miller-rabin": {
        const { prime, divisor } = isPrimeMillerRabin(task.n);
        return { kind: "prime", prime, divisor, seconds: seconds() };
      }
      case "find-divisor":
        return {
          kind: "divisor",
          divisor: smallestDivisorInRange(task.n, task.from, task.to, flag),
          seconds: seconds(),
        };
      case "pi":
        return {
          kind: "pi",
          inside: countInside(task.seed, task.startBlock, task.samples, flag),
          seconds: seconds(),
        };
    }
  } catch (err) {
    if (err instanceof CancelledError) return { kind: "cancelled" };
    throw err;
  }
}

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case "task": {
      const { task, work, flag } = message;
      if (work.kind === "drop") {
        modules.dropActor(work.actor);
        post({ type: "done", task });
        return;
      }
      if (work.kind !== "call") {
        try {
          post({ type: "done", task, result: runKernel(work, flag) });
        } catch (err) {
          post({ type: "failed", task, error: toThrown(err) });
        }
        return;
      }
      const running = runCall(work, flag, modules, {
        exposeStacks: start.exposeStacks,
        log: {
          debug: (line) => post({ type: "log", level: "debug", line }),
          info: (line) => post({ type: "log", level: "info", line }),
          warn: (line) => post({ type: "log", level: "warn", line }),
          error: (line) => post({ type: "log", level: "error", line }),
        },
        item: (bytes) => post({ type: "item", task, bytes }, [bytes.buffer as ArrayBuffer]),
      });
      calls.set(task, running);
      running.done
        .then(
          ({ bytes, failed }) =>
            post({ type: "done", task, bytes, failed }, bytes ? [bytes.buffer as ArrayBuffer] : []),
          (err: unknown) => post({ type: "failed", task, error: toThrown(err) }),
        )
        .finally(() => calls.delete(task));
      return;
    }
    case "cancel":
      calls.get(message.task)?.cancel();
      return;
    case "more":
      calls.get(message.task)?.more(message.items);
      return;
    case "load":
      modules.load(message.spec).then(
        () => post({ type: "loaded", load: message.load }),
        (err: unknown) => post({ type: "loaded", load: message.load, error: toThrown(err) }),
      );
      return;
  }
}

// The modules exposed so far are imported before any task is taken.
Promise.all(start.modules.map((spec) => modules.load(spec))).then(
  () => {
    port.on("message", onMessage);
    post({ type: "ready" });
  },
  (err: unknown) => post({ type: "ready", error: toThrown(err) }),
);
