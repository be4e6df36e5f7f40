import type { Metadata, ServiceError } from "@grpc/grpc-js";
import { Code, codeName } from "../src/code.js";
import { decodeStatusDetails, STATUS_DETAILS_KEY } from "../src/error-details.js";
import { ServerError } from "../src/server-error.js";
import { inFerryWords } from "./transport-words.js";

/**
 * The one error class a ferry caller catches. It carries the gRPC status code,
 * the node's message, and, when the node sent them, the remote error's class
 * name, stack and the request field at fault.
 *
 * A call refused before it left (a request field out of range, an aborted
 * signal) throws it too, with the code the node would have used.
 */
export class RemoteError extends Error {
  override name = "RemoteError";
  readonly code: Code;
  /** The status message as the node sent it. */
  readonly details: string;
  /** Class name of the error on the node, e.g. "ServerError"; undefined for local failures. */
  readonly remoteName: string | undefined;
  /** Stack on the node, when the node exposes stacks. */
  readonly remoteStack: string | undefined;
  /** The request field the error is about, when there is one. */
  readonly field: string | undefined;
  /** Trailing metadata of the failed call. */
  readonly metadata: Metadata | undefined;

  constructor(
    code: Code,
    details: string,
    options: {
      remoteName?: string;
      remoteStack?: string;
      field?: string;
      metadata?: Metadata;
      cause?: unknown;
    } = {},
  ) {
    super(
      `[${codeName(code)}] ${details}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = details;
    this.remoteName = options.remoteName;
    this.remoteStack = options.remoteStack || undefined;
    this.field = options.field || undefined;
    this.metadata = options.metadata;
    if (this.remoteStack && this.stack) {
      // The node's frames are set apart from the caller's, so nobody reads them as local.
      this.stack = `${this.stack}\n--- remote stack (${this.remoteName ?? "node"}) ---\n${this.remoteStack}`;
    }
  }

  /** The code's name, e.g. "INVALID_ARGUMENT". */
  get codeName(): string {
    return codeName(this.code);
  }
}

/**
 * What a call or a map ends with when its signal aborts, by the rule every
 * ferry failure follows (a RemoteError): CANCELLED, or DEADLINE_EXCEEDED for
 * a signal that timed out (`AbortSignal.timeout`), with the signal's reason
 * as the cause.
 */
export function abortedBy(signal: AbortSignal | undefined, what: string): RemoteError {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new RemoteError(Code.DEADLINE_EXCEEDED, `${what}'s signal timed out`, { cause: reason });
  }
  return new RemoteError(Code.CANCELLED, `${what} was aborted by its signal`, { cause: reason });
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "details" in err;
}

/** Wraps whatever a call failed with into a RemoteError (never a bare grpc-js error). */
export function toRemoteError(err: unknown, signal?: AbortSignal): RemoteError {
  if (err instanceof RemoteError) return err;
  if (signal?.aborted) return abortedBy(signal, "the call");
  if (err instanceof ServerError) {
    return new RemoteError(err.code, err.message, { field: err.field, cause: err });
  }
  if (isServiceError(err)) {
    const raw = err.metadata?.get(STATUS_DETAILS_KEY)[0];
    const detail = raw instanceof Uint8Array ? decodeStatusDetails(raw) : undefined;
    // A failure of the connection itself (no node's detail) is told in ferry's words; the original is the cause.
    const words = detail ? undefined : inFerryWords(err.code, err.details);
    return new RemoteError(err.code, words ?? err.details, {
      remoteName: detail?.name,
      remoteStack: detail?.stack,
      field: detail?.field,
      metadata: err.metadata,
      cause: err,
    });
  }
  if (err instanceof RangeError || err instanceof TypeError) {
    return new RemoteError(Code.INVALID_ARGUMENT, err.message, { cause: err });
  }
  const error = err instanceof Error ? err : new Error(String(err));
  return new RemoteError(Code.UNKNOWN, error.message, { cause: error });
}
