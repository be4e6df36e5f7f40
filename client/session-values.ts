import { tooLargeError } from "../src/call-error.js";
import { Code } from "../src/code.js";
import { type CallError, ClientMessage, type Outcome } from "../src/gen/ferry/v1/objects.js";
import type { Value } from "../src/gen/ferry/v1/value.js";
import { fromValue } from "../src/value-codec.js";
import { ListPath, toValues } from "../src/value-lists.js";
import type { ClientRefs } from "./client-refs.js";
import { RemoteError, toRemoteError } from "./remote-error.js";
import type { BatchOutcome } from "./session-call.js";

/** A call's error as the node sent it in a session message, as a RemoteError. */
export function callError(error: CallError): RemoteError {
  return new RemoteError(error.code, error.message, {
    remoteName: error.detail?.name,
    remoteStack: error.detail?.stack,
    field: error.detail?.field,
  });
}

/**
 * A batch's argument lists as Values. One path serves every entry (see
 * ListPath): a map of a million items builds no path string and no closure
 * per item.
 */
export function encodeCalls(calls: unknown[][], refs: ClientRefs): { args: Value[] }[] {
  const entry = new ListPath("calls");
  const args = new ListPath("", entry);
  const encoded = new Array<{ args: Value[] }>(calls.length);
  for (let c = 0; c < calls.length; c++) {
    entry.index = c;
    encoded[c] = { args: toValues(calls[c] as unknown[], args, refs) };
  }
  return encoded;
}

/** A batch's outcomes, each a value or its error; one path for the whole batch, as above. */
export function decodeOutcomes(
  outcomes: Outcome[],
  indexes: readonly number[],
  refs: ClientRefs,
): BatchOutcome[] {
  const path = new ListPath("results");
  const out = new Array<BatchOutcome>(outcomes.length);
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i] as Outcome;
    path.index = indexes.length > 0 ? (indexes[i] as number) : i;
    out[i] = outcome.error
      ? { ok: false, error: callError(outcome.error) }
      : { ok: true, value: fromValue(outcome.value, path.at, refs) };
  }
  return out;
}

/** Codes with which a node refuses a session as it opens, rather than losing it. */
const REFUSALS = new Set<Code>([
  Code.FAILED_PRECONDITION,
  Code.UNAUTHENTICATED,
  Code.PERMISSION_DENIED,
  Code.RESOURCE_EXHAUSTED,
]);

/**
 * Why the calls of a session whose stream ended fail: the node's refusal of
 * the session itself (another build, no token) as it is, and anything else
 * as UNAVAILABLE, since the session objects on the node are gone with it.
 */
export function sessionLost(err: unknown, target: string): RemoteError {
  const error = err instanceof Error ? toRemoteError(err) : undefined;
  if (error && REFUSALS.has(error.code)) return error;
  const why = error ? error.details : "the node ended it";
  return new RemoteError(
    Code.UNAVAILABLE,
    `session to ${target} broke (${why}); its session objects on the node are gone`,
    { cause: err },
  );
}

/**
 * What goes in place of a message no frame may carry: nothing for a call
 * or batch, which fails alone with RESOURCE_EXHAUSTED (`failCall`), and for
 * a callback's result, its error. Anything else (small by nature) goes as it is.
 */
export function replaceTooLarge(
  message: ClientMessage,
  encoded: Uint8Array,
  maxMessageBytes: number,
  failCall: (id: bigint, error: RemoteError) => void,
): Uint8Array | undefined {
  const bytes = encoded.length;
  const id = message.call?.id ?? message.batch?.id;
  if (id !== undefined) {
    const error = tooLargeError("the call's arguments", bytes, maxMessageBytes, "send smaller pieces");
    failCall(id, callError(error));
    return undefined;
  }
  const answered = message.callbackResult;
  if (answered) {
    const error = tooLargeError("the callback's result", bytes, maxMessageBytes, "return less from it");
    return ClientMessage.encode({ callbackResult: { id: answered.id, value: undefined, error } }).finish();
  }
  return encoded;
}
