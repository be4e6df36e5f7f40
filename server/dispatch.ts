import { declaredArity } from "../src/arity.js";
import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import type { CallContext } from "./call-context.js";
import { runInCall } from "./call-context.js";
import type { LoopWatch } from "./loop-watch.js";
import type { BoundCall } from "./object-host.js";

/** What a call on an exposed object gives: a value, or a stream of values. */
export type Outcome =
  | { kind: "value"; value: Promise<unknown> }
  | { kind: "stream"; items: AsyncIterable<unknown> };

/**
 * Runs `object.method(...args)` inside the call's context. Refuses more
 * arguments than the method declares (unless it takes a rest parameter); a
 * stream method's iteration also runs in the context, item by item. With
 * `watch`, each turn the method takes on this thread is timed.
 */
export function dispatch(call: BoundCall, args: unknown[], context: CallContext, watch?: LoopWatch): Outcome {
  // fn.length stops at the first default value: only past it is the source read.
  const arity = args.length > call.fn.length ? declaredArity(call.fn) : undefined;
  if (arity !== undefined && args.length > arity) {
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      `${call.object}.${call.method.name} takes ${arity} argument${arity === 1 ? "" : "s"}, got ${args.length}`,
      { field: "args" },
    );
  }
  const began = watch ? performance.now() : 0;
  try {
    if (call.method.stream) {
      const iterable = runInCall(context, () => call.fn.apply(call.self, args)) as AsyncIterable<unknown>;
      return { kind: "stream", items: inContext(iterable, context, call, watch) };
    }
    return { kind: "value", value: runInCall(context, async () => call.fn.apply(call.self, args)) };
  } finally {
    watch?.held(call, performance.now() - began);
  }
}

async function* inContext(
  iterable: AsyncIterable<unknown> | Iterable<unknown>,
  context: CallContext,
  call: BoundCall,
  watch: LoopWatch | undefined,
) {
  const iterator =
    Symbol.asyncIterator in iterable
      ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (iterable as Iterable<unknown>)[Symbol.iterator]();
  try {
    for (;;) {
      const began = watch ? performance.now() : 0;
      const pending = runInCall(context, () => iterator.next());
      watch?.held(call, performance.now() - began);
      const next = await pending;
      if (next.done) return;
      yield next.value;
      if (context.signal.aborted) return;
    }
  } finally {
    await runInCall(context, () => iterator.return?.());
  }
}
