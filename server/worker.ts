import { CancelledError, isCancelled } from "../src/kernels/cancel.js";
import { isPrimeMillerRabin } from "../src/kernels/miller-rabin.js";
import { countInside } from "../src/kernels/pi.js";
import { isPrimeByTrialDivision, smallestDivisorInRange } from "../src/kernels/trial-division.js";
import type { WorkerResult, WorkerTask } from "./worker-task.js";

/** Entry point of every worker thread of a node's pool (loaded by piscina). */
export default function runTask(task: WorkerTask): WorkerResult {
  // A task whose call was cancelled while it waited in the queue must not start.
  if (isCancelled(task.flag)) return { kind: "cancelled" };
  const start = performance.now();
  try {
    switch (task.kind) {
      case "trial-division": {
        const { prime, divisor } = isPrimeByTrialDivision(task.n, task.flag);
        return { kind: "prime", prime, divisor, seconds: (performance.now() - start) / 1000 };
      }
      case "miller-rabin": {
        const { prime, divisor } = isPrimeMillerRabin(task.n);
        return { kind: "prime", prime, divisor, seconds: (performance.now() - start) / 1000 };
      }
      case "find-divisor": {
        const divisor = smallestDivisorInRange(task.n, task.from, task.to, task.flag);
        return { kind: "divisor", divisor, seconds: (performance.now() - start) / 1000 };
      }
      case "pi": {
        const inside = countInside(task.seed, task.startBlock, task.samples, task.flag);
        return { kind: "pi", inside, seconds: (performance.now() - start) / 1000 };
      }
    }
  } catch (err) {
    if (err instanceof CancelledError) return { kind: "cancelled" };
    throw err;
  }
}
