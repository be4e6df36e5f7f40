import { toCallError } from "../src/call-error.js";
import { Code } from "../src/code.js";
import type { ErrorDetail } from "../src/gen/ferry/v1/errors.js";
import type { Log } from "../src/log.js";
import { isServerError } from "../src/server-error.js";

// What a failed call tells its caller, in terms of no transport: the session,
// unary handlers and worker threads (which load no gRPC) all use it.

/** What a node keeps per call: cancellation and error reporting. */
export interface CallScopeOptions {
  /** Send the stack of unknown errors to callers (off by default: stacks reveal internals). */
  exposeStacks: boolean;
  /** Where the node logs what it does not tell callers (unknown errors with their stacks). */
  log: Log;
}

/** A failure as the caller will see it: status code, message, and the detail sent beside them. */
export interface CallFailure {
  code: number;
  message: string;
  detail: ErrorDetail;
}

/**
 * Turns anything a handler threw into what the caller receives. A ServerError
 * keeps its code and message; anything else becomes UNKNOWN with a generic
 * message (its own, and its stack, with `exposeStacks`), and the node logs the original.
 */
export function describeFailure(err: unknown, path: string, options: CallScopeOptions): CallFailure {
  return toCallError(err, (error) => {
    options.log.error(`${path} failed: ${error.stack ?? error.message}`, {
      event: "call failed",
      method: path,
    });
    return options.exposeStacks
      ? { message: error.message, stack: error.stack ?? "" }
      : { message: `internal error in ${path} (details are in the node's log)`, stack: "" };
  });
}

/**
 * A oneway call's answer, which nobody waits for: a failure is only logged.
 * Resolves with the code it ended with, for the node's observer.
 */
export function logFailure(
  answer: Promise<unknown>,
  path: string,
  options: CallScopeOptions,
): Promise<number> {
  return answer.then(
    () => Code.OK,
    (err: unknown) => describeFailure(err, path, options).code,
  );
}

/** The status code a failure answers with (see {@link describeFailure}), without describing it. */
export function failureCode(err: unknown): number {
  return isServerError(err) ? err.code : Code.UNKNOWN;
}
