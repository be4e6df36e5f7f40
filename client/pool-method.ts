import { type MessageFns, type MethodDefinition, messageFns, PROTO_PACKAGE } from "../src/contract.js";
import { isMethodRef, type MethodRef } from "./remote-method.js";

/** What a pool calls: an exposed object's method, with how to turn items into arguments and results back. */
export interface PoolMethod {
  object: string;
  method: string;
  /** The arguments of one call for one item. */
  args(item: unknown): unknown[];
  /** The result as the caller sees it. */
  result(value: unknown): unknown;
}

/**
 * Reads the method a pool is asked to call:
 * - a typed service method, `PrimeChecker.isPrime`: each item is its request
 *   message and each result its response message, called through the object
 *   the node hosts for that service;
 * - `"object.method"`, or a {@link MethodRef} from `remote()`: each item is
 *   the one argument (`spread`: the argument list) of a call to an exposed
 *   object's method.
 */
export function poolMethod(ref: MethodDefinition | MethodRef | string, spread = false): PoolMethod {
  if (isMethodRef(ref)) {
    return {
      object: ref.object,
      method: ref.method,
      args: spread ? spreadArgs : (item) => [item],
      result: (v) => v,
    };
  }
  if (typeof ref === "string") {
    const dot = ref.lastIndexOf(".");
    if (dot <= 0 || dot === ref.length - 1) {
      throw new TypeError(`method ${JSON.stringify(ref)} is not "object.method", e.g. "calc.add"`);
    }
    return {
      object: ref.slice(0, dot),
      method: ref.slice(dot + 1),
      args: spread ? spreadArgs : (item) => [item],
      result: (value) => value,
    };
  }
  const match = typeof ref?.path === "string" ? /^\/([\w.]+)\.(\w+)\/(\w+)$/.exec(ref.path) : null;
  if (!match || match[1] !== PROTO_PACKAGE) {
    throw new TypeError(
      'method must be "object.method" or a ferry service method such as PrimeChecker.isPrime',
    );
  }
  if (ref.requestStream || ref.responseStream) {
    throw new TypeError(`${ref.path} streams; a pool maps methods that take one request and answer once`);
  }
  const [, , service, rpc] = match as unknown as [string, string, string, string];
  const response: MessageFns = messageFns(`${PROTO_PACKAGE}.${rpc}Response`);
  return {
    object: service,
    method: rpc.charAt(0).toLowerCase() + rpc.slice(1),
    args: (item) => [item],
    result: (value) => response.fromPartial(value ?? {}),
  };
}

function spreadArgs(item: unknown): unknown[] {
  if (!Array.isArray(item)) {
    throw new TypeError(`starmap items are argument lists, got ${typeof item}`);
  }
  return item;
}
