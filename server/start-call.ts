import type { Value } from "../src/gen/ferry/v1/value.js";
import type { RefCodec } from "../src/value-codec.js";
import { decodeArgs, ListPath } from "../src/value-lists.js";
import type { CallContext } from "./call-context.js";
import { type Outcome as Dispatched, dispatch } from "./dispatch.js";
import type { HandlerContext } from "./handlers.js";
import type { ResolvedCall } from "./object-host.js";
import { workerArgRefs } from "./workers/worker-objects.js";

/** A call under way: a value here, a worker's encoded answer, or a stream (of either). */
export type Started = Dispatched | { kind: "encoded"; value: Promise<Uint8Array> };

/**
 * Starts one call, for Invoke and a session alike: its arguments decode (at
 * most `VALUE_LIMITS.maxArgs`; for a worker thread, with no references,
 * which cannot follow a call there), then it runs here or in a worker.
 * `refs` decodes references for a call run here (a session's; Invoke has
 * none). A worker's stream comes back item by item (`"items"`) or collected
 * into one list (`"collect"`, for a caller that takes one answer).
 */
export function startCall(
  resolved: ResolvedCall,
  args: readonly Value[],
  path: string,
  context: CallContext,
  ctx: HandlerContext,
  refs: RefCodec | undefined,
  call: { id: bigint; streams: "items" | "collect" },
): Started {
  if (resolved.where === "here") {
    return dispatch(resolved, decodeArgs(args, new ListPath("args"), refs), context, ctx.loopWatch);
  }
  const decoded = decodeArgs(args, new ListPath("args"), workerArgRefs(path));
  const { workers } = ctx;
  if (resolved.method.stream && call.streams === "items") {
    return { kind: "stream", items: workers.stream(resolved, decoded, context, call.id) };
  }
  const answer = resolved.method.stream ? "collect" : "result";
  return { kind: "encoded", value: workers.call(resolved, decoded, context, call.id, answer) };
}
