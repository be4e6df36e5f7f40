import { Code } from "../../src/code.js";
import { ServerMessage } from "../../src/gen/ferry/v1/objects.js";
import type { Log } from "../../src/log.js";
import { isServerError, ServerError } from "../../src/server-error.js";
import { type RefCodec, refusal, toValue } from "../../src/value-codec.js";
import { collect, runBatch, THROUGH_A_SESSION } from "../batch.js";
import { BatchAnswers } from "../batch-answers.js";
import type { CallContext } from "../call-context.js";
import { describeFailure } from "../call-failure.js";
import { dispatch } from "../dispatch.js";
import { isStreamMethod } from "../exposure.js";
import type { BoundCall } from "../object-host.js";
import { referenceMethods } from "../references.js";
import { flagSignal } from "./flag-signal.js";
import type { WorkerModules } from "./worker-modules.js";
import type { CallTask, PackedArgs } from "./worker-task.js";

/**
 * A streamed batch's entries that keep the thread busy for this long in a row
 * are followed by a turn of its event loop, so the finished ones leave.
 */
const YIELD_AFTER_MS = 2;

/** What a worker gives a call: where its log lines and stream items go. */
export interface CallIo {
  exposeStacks: boolean;
  log: Log;
  item: (bytes: Uint8Array) => void;
}

/** A call running in this thread. */
export interface RunningCall {
  /**
   * The encoded answer (a stream's end: nothing) and, for a batch, the codes
   * of its entries that failed; rejects with the method's error.
   */
  done: Promise<{ bytes?: Uint8Array; failed?: number[] }>;
  /** The main thread cancelled it: the signal fires for code that awaits. */
  cancel(): void;
  /** A stream's reader took `items` more. */
  more(items: number): void;
}

/**
 * Runs a user's call in this worker thread: the same dispatch as on the main
 * thread, inside the same call context (a signal backed by the task's flag,
 * the deadline, session and peer), its answer encoded here, so the main
 * thread only forwards bytes.
 */
export function runCall(task: CallTask, flag: Int32Array, modules: WorkerModules, io: CallIo): RunningCall {
  const { signal, sync } = flagSignal(flag);
  const context: CallContext = {
    signal,
    deadline: task.deadline,
    sessionId: task.sessionId,
    peer: task.peer,
    traceparent: task.traceparent,
  };
  const refs = resultRefs(task.label, modules);
  let credit = task.window;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const resolve = (): BoundCall => {
    const self = modules.instance(task);
    const fn = (self as Record<string, (...args: unknown[]) => unknown>)[task.method] as (
      ...args: unknown[]
    ) => unknown;
    const method = {
      name: task.method,
      stream: isStreamMethod(fn),
      oneway: false,
      idempotent: false,
      concurrency: 0,
    };
    return { where: "here", object: task.label.slice(0, task.label.lastIndexOf(".")), method, self, fn };
  };
  const encode = (message: ServerMessage) => ServerMessage.encode(message).finish();

  const run = async (): Promise<{ bytes?: Uint8Array; failed?: number[] }> => {
    // Exposed while the node serves: this thread may still be importing it.
    await modules.loaded(task);
    const { id } = task;
    if (task.answer === "batch" || task.answer === "outcomes") {
      const percall = task.instance.kind === "percall";
      const first = resolve();
      const failed: number[] = [];
      let last: Uint8Array | undefined;
      const answers = new BatchAnswers({
        id,
        count: countOf(task.args),
        stream: task.answer === "outcomes",
        refs,
        fail: (err) => {
          const { code, message, detail } = describeFailure(normalize(err, task.label), task.label, io);
          failed.push(code);
          return { code, message, detail };
        },
        send: (batchResult) => {
          const bytes = encode({ batchResult });
          if (batchResult.partial) io.item(bytes);
          else last = bytes;
        },
      });
      // Entries start one after another; the flag is what tells a cancelled
      // batch to start no more. Entries that keep the thread busy let those
      // done go between them.
      await runBatch(
        countOf(task.args),
        (i) => {
          if (signal.aborted) throw signal.reason;
          return dispatch(i === 0 || !percall ? first : resolve(), argsOf(task.args, i), context);
        },
        (i, result) => answers.settle(i, result),
        task.answer === "outcomes" ? YIELD_AFTER_MS : undefined,
      );
      return { bytes: last, failed };
    }
    const outcome = dispatch(resolve(), argsOf(task.args, 0), context);
    if (outcome.kind === "value") {
      return { bytes: encode({ result: { id, value: toValue(await outcome.value, "result", refs) } }) };
    }
    if (task.answer === "collect") {
      const items = await collect(outcome.items, task.label, THROUGH_A_SESSION);
      return { bytes: encode({ result: { id, value: toValue(items, "result", refs) } }) };
    }
    for await (const item of outcome.items) {
      if (signal.aborted) break;
      io.item(encode({ item: { id, value: toValue(item, "item", refs) } }));
      credit--;
      while (credit <= 0 && !signal.aborted) await new Promise<void>((r) => (wake = r));
    }
    return {};
  };

  return {
    done: run().catch((err: unknown) => {
      throw normalize(err, task.label);
    }),
    cancel: () => {
      sync();
      wakeUp();
    },
    more: (items) => {
      credit += items;
      wakeUp();
    },
  };
}

function countOf(args: PackedArgs): number {
  return args.kind === "one" ? 1 : args.kind === "flat" ? args.count : args.entries.length;
}

function argsOf(args: PackedArgs, i: number): unknown[] {
  switch (args.kind) {
    case "one":
      return args.args;
    case "flat":
      return args.arity === 1 ? [args.args[i]] : args.args.slice(i * args.arity, (i + 1) * args.arity);
    case "nested":
      return args.entries[i] ?? [];
  }
}

/**
 * Results that would travel by reference from the main thread cannot leave
 * a worker: the object would stay behind in this thread. They are refused,
 * never copied.
 */
function resultRefs(label: string, modules: WorkerModules): RefCodec {
  return {
    toRef(value: object) {
      if (typeof value === "function") return undefined;
      if (referenceMethods(value) || modules.isExposedInstance(value)) {
        throw refusal(
          Code.FAILED_PRECONDITION,
          `${label} runs in worker threads, and an object handed out by reference cannot leave its thread; return plain data, or expose the object with run: "main"`,
        );
      }
      return undefined;
    },
    fromRef() {
      throw new ServerError(Code.INTERNAL, "worker threads receive no references");
    },
  };
}

/**
 * A ServerError from another copy of ferry keeps its code; a stack overflow
 * is a resource failure of the call (INTERNAL) like running out of memory.
 */
function normalize(err: unknown, label: string): unknown {
  if (isServerError(err)) return err;
  if (err instanceof RangeError && /maximum call stack size exceeded/i.test(err.message)) {
    return new ServerError(Code.INTERNAL, `${label} overflowed its stack (${err.message})`);
  }
  return err;
}
