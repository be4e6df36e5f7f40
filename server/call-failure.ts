import { Code } from "../src/code.js";
import type { ErrorDetail } from "../src/gen/ferry/v1/errors.js";
import { isServerError } from "../src/server-error.js";

// What a failed call tells its caller, in terms of no transport: the session,
// unary handlers and worker threads (which load no gRPC) all use it.

/** Logs what the node does not tell callers (unknown errors with their stacks). */
export type NodeLogger = (line: string) => void;

/** What a node keeps per call: cancellation and error reporting. */
export interface CallScopeOptions {
  /** Send the stack of unknown errors to callers (off by default: stacks reveal internals). */
  exposeStacks: boolean;
  log: NodeLogger;
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
 * message, and the node logs the original.
 */
export function describeFailure(err: unknown, path: string, options: CallScopeOptions): CallFailure {
  if (isServerError(err)) {
    return {
      code: err.code,
      message: err.message,
      detail: { name: err.name, message: err.message, stack: "", field: err.field ?? "" },
    };
  }
  const error = err instanceof Error ? err : new Error(String(err));
  options.log(`ferry node: ${path} failed: ${error.stack ?? error.message}`);
  const message = options.exposeStacks
    ? error.message
    : `internal error in ${path} (details are in the node's log)`;
  const stack = options.exposeStacks ? (error.stack ?? "") : "";
  return { code: Code.UNKNOWN, message, detail: { name: error.name, message, stack, field: "" } };
}
