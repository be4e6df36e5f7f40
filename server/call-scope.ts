import { setMaxListeners } from "node:events";
import type { Metadata, ServerErrorResponse } from "@grpc/grpc-js";
import { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import { Code, codeName } from "../src/code.js";
import { encodeStatusDetails, STATUS_DETAILS_KEY } from "../src/error-details.js";
import { ServerError } from "../src/server-error.js";
import { type CallScopeOptions, describeFailure } from "./call-failure.js";

/** The part of a grpc-js server call a handler scope needs. */
interface CancellableCall {
  cancelled: boolean;
  getDeadline(): Date | number;
  getPeer(): string;
  on(event: "cancelled", listener: () => void): unknown;
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
