import { Code, codeName } from "./code.js";

/**
 * The error a node's handlers throw to answer with a chosen status code.
 *
 * Its message is sent to the caller as it is, so it must name the field and the
 * limit and must not carry secrets. Errors of any other class reach the caller
 * as UNKNOWN with a generic message; the node logs the original.
 */
export class ServerError extends Error {
  override name = "ServerError";
  readonly code: Code;
  /** The request field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: Code, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options?.field;
  }

  override toString(): string {
    return `${this.name} [${codeName(this.code)}]: ${this.message}`;
  }
}

/**
 * Whether `err` is a ServerError, by its shape as well as its class: a user's
 * module may throw one from another copy of ferry than the node's. Its code
 * must be a gRPC error status (1 to 16).
 */
export function isServerError(err: unknown): err is ServerError {
  if (err instanceof ServerError) return true;
  if (!(err instanceof Error) || err.name !== "ServerError") return false;
  const code = (err as { code?: unknown }).code;
  return Number.isInteger(code) && (code as number) >= 1 && (code as number) <= 16;
}

/** Shorthand for the most common failure: a request field outside its contract. */
export function invalidArgument(field: string, message: string): ServerError {
  return new ServerError(Code.INVALID_ARGUMENT, `${field}: ${message}`, { field });
}
