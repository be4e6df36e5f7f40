import type { CallError, Outcome } from "../src/gen/ferry/v1/objects.js";
import type { Value } from "../src/gen/ferry/v1/value.js";
import { fromValue, toValue } from "../src/value-codec.js";
import type { ClientRefs } from "./client-refs.js";
import { RemoteError } from "./remote-error.js";
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
 * A batch's argument lists as Values. One path function serves every entry,
 * reading the loop's indexes when a value is refused: a map of a million
 * items builds no path string and no closure per item.
 */
export function encodeCalls(calls: unknown[][], refs: ClientRefs): { args: Value[] }[] {
  let c = 0;
  let i = 0;
  const path = () => `calls[${c}][${i}]`;
  const encoded = new Array<{ args: Value[] }>(calls.length);
  for (c = 0; c < calls.length; c++) {
    const args = calls[c] as unknown[];
    const values = new Array<Value>(args.length);
    for (i = 0; i < args.length; i++) values[i] = toValue(args[i], path, refs);
    encoded[c] = { args: values };
  }
  return encoded;
}

/** A batch's outcomes, each a value or its error; one path function for the whole batch, as above. */
export function decodeOutcomes(outcomes: Outcome[], refs: ClientRefs): BatchOutcome[] {
  let i = 0;
  const path = () => `results[${i}]`;
  const out = new Array<BatchOutcome>(outcomes.length);
  for (i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i] as Outcome;
    out[i] = outcome.error
      ? { ok: false, error: callError(outcome.error) }
      : { ok: true, value: fromValue(outcome.value, path, refs) };
  }
  return out;
}
