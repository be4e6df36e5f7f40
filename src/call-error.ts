import { Code } from "./code.js";
import type { ErrorDetail } from "./gen/ferry/v1/errors.js";
import type { CallError } from "./gen/ferry/v1/objects.js";
import { isServerError } from "./server-error.js";

/** What an unknown error (not a ServerError) tells the peer: its message and stack, or words in their place. */
export type UnknownError = (error: Error) => { message: string; stack: string };

/** Tells an unknown error's own message, and no stack. */
export const OWN_MESSAGE: UnknownError = (error) => ({ message: error.message, stack: "" });

/**
 * A thrown value as the CallError a session message carries, on either side
 * of the wire: a ServerError keeps its code, message and field; anything else
 * is UNKNOWN with what `unknown` lets it say.
 */
export function toCallError(
  err: unknown,
  unknown: UnknownError = OWN_MESSAGE,
): CallError & { detail: ErrorDetail } {
  if (isServerError(err)) {
    return {
      code: err.code,
      message: err.message,
      detail: { name: err.name, message: err.message, stack: "", field: err.field ?? "" },
    };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  const { message, stack } = unknown(error);
  return { code: Code.UNKNOWN, message, detail: { name: error.name, message, stack, field: "" } };
}

/**
 * The CallError of a message too large for the wire, sent in its place so
 * that only its call fails and the session goes on.
 */
export function tooLargeError(what: string, bytes: number, maxMessageBytes: number, hint: string): CallError {
  return {
    code: Code.RESOURCE_EXHAUSTED,
    message: `${what}: ${bytes} bytes, more than one message may carry (maxMessageBytes ${maxMessageBytes}); ${hint}`,
    detail: undefined,
  };
}
