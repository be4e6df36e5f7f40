import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";
import type { CallContext } from "./call-context.js";
import { runInCall } from "./call-context.js";
import type { ResolvedCall } from "./object-host.js";

/** What a call on an exposed object gives: a value, or a stream of values. */
export type Outcome =
  | { kind: "value"; value: Promise<unknown> }
  | { kind: "stream"; items: AsyncIterable<unknown> };

const REST_PARAMETER = /^[^)]*\.\.\./;

/**
 * Runs `object.method(...args)` inside the call's context. Refuses more
 * arguments than the method declares (unless it takes a rest parameter); a
 * stream method's iteration also runs in the context, item by item.
 */
export function dispatch(call: ResolvedCall, args: unknown[], context: CallContext): Outcome {
  if (args.length > call.fn.length && !REST_PARAMETER.test(call.fn.toString())) {
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      `${call.object}.${call.method.name} takes ${call.fn.length} argument${call.fn.length === 1 ? "" : "s"}, got ${args.length}`,
      { field: "args" },
    );
  }
  if (call.method.stream) {
    const iterable = runInCall(context, () => call.fn.apply(call.self, args)) as AsyncIterable<unknown>;
    return { kind: "stream", items: inContext(iterable, context) };
  }
  return { kind: "value", value: runInCall(context, async () => call.fn.apply(call.self, args)) };
}

async function* inContext(iterable: AsyncIterable<unknown> | Iterable<unknown>, context: CallContext) {
  const iterator =
    Symbol.asyncIterator in iterable
      ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (iterable as Iterable<unknown>)[Symbol.iterator]();
  try {
    for (;;) {
      const next = await runInCall(context, () => iterator.next());
      if (next.done) return;
      yield next.value;
      if (context.signal.aborted) return;
    }
  } finally {
    await runInCall(context, () => iterator.return?.());
  }
}
