import { setMaxListeners } from "node:events";
import type { Metadata, ServerErrorResponse } from "@grpc/grpc-js";
import { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import { Code, codeName } from "../src/code.js";
import { encodeStatusDetails, STATUS_DETAILS_KEY } from "../src/error-details.js";
import type { ErrorDetail } from "../src/gen/ferry/v1/errors.js";
import { ServerError } from "../src/server-error.js";

/** The part of a grpc-js server call a handler scope needs. */
interface CancellableCall {
  cancelled: boolean;
  getDeadline(): Date | number;
  getPeer(): string;
  on(event: "cancelled", listener: () => void): unknown;
}

/** Logs what the node does not tell callers (unknown errors with their stacks). */
export type NodeLogger = (line: string) => void;

/** What a node keeps per call: cancellation and error reporting. */
export interface CallScopeOptions {
  /** Send the stack of unknown errors to callers (off by default: stacks reveal internals). */
  exposeStacks: boolean;
  log: NodeLogger;
}

/**
 * An AbortSignal that fires when the caller cancels or the deadline passes, so
 * everything a handler starts (worker tasks, fetches) stops with the call. The
 * reason is a ServerError with CANCELLED or DEADLINE_EXCEEDED.
 */
export function callSignal(call: CancellableCall): AbortSignal {
  const controller = new AbortController();
  // One call may run many tasks at once (FetchMany's concurrency, a pi job's
  // tasks), each listening; their number is bounded by the node's limits.
  setMaxListeners(0, controller.signal);
  const abort = () => {
    if (controller.signal.aborted) return;
    const deadline = call.getDeadline();
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    const expired = Number.isFinite(ms) && Date.now() >= ms - 1;
    controller.abort(
      expired
        ? new ServerError(Code.DEADLINE_EXCEEDED, "deadline exceeded")
        : new ServerError(Code.CANCELLED, "call was cancelled by the caller"),
    );
  };
  if (call.cancelled) abort();
  else call.on("cancelled", abort);
  return controller.signal;
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
  if (err instanceof ServerError) {
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

/**
 * The status a failed call answers with. Every status carries a
 * ferry.v1.ErrorDetail in grpc-status-details-bin for clients of any language.
 */
export function toServiceError(err: unknown, path: string, options: CallScopeOptions): ServerErrorResponse {
  const { code, message, detail } = describeFailure(err, path, options);
  const metadata: Metadata = new GrpcMetadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, message, detail));
  const error = new Error(message) as ServerErrorResponse;
  error.name = codeName(code);
  Object.assign(error, { code, details: message, metadata });
  return error;
}
