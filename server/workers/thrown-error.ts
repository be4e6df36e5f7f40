import { isServerError, ServerError } from "../../src/server-error.js";
import type { ThrownError } from "./worker-task.js";

/** What the main thread needs to rebuild an error thrown in a worker. */
export function toThrown(err: unknown): ThrownError {
  if (isServerError(err)) {
    return { name: err.name, message: err.message, stack: err.stack ?? "", code: err.code, field: err.field };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack ?? "" };
  return { name: "Error", message: String(err), stack: "" };
}

/**
 * The error again, on the main thread: a ServerError keeps its code and field;
 * anything else keeps its name, message and stack, so the node describes and
 * logs it exactly as it would a method's error on the main thread.
 */
export function fromThrown(thrown: ThrownError): Error {
  if (thrown.code !== undefined) {
    const error = new ServerError(thrown.code, thrown.message, { field: thrown.field || undefined });
    error.name = thrown.name;
    if (thrown.stack) error.stack = thrown.stack;
    return error;
  }
  const error = new Error(thrown.message);
  error.name = thrown.name;
  error.stack = thrown.stack || `${thrown.name}: ${thrown.message}`;
  return error;
}
