import { Code } from "./code.js";
import type { Value } from "./gen/ferry/v1/value.js";
import { ServerError } from "./server-error.js";
import { fromValue, type RefCodec, toValue } from "./value-codec.js";
import { VALUE_LIMITS } from "./value-limits.js";

/**
 * The path of the item a loop over a list is at, written only when a value
 * is refused. A loop sets `index`; `at` reads it then. One ListPath serves a
 * whole list, so a map of a million items builds no path string and no
 * closure per item. Paths nest: `new ListPath("", calls)` names
 * `calls[c][i]`, `new ListPath(".args", calls)` names `calls[c].args[i]`.
 *
 * A ListPath takes names, never a closure over its caller's scope: it lives
 * as long as a batch does, long enough to reach the old generation, and an
 * old object that held a batch handler's scope would keep every batch's
 * decoded message alive past the young collections (a fifth of a tiny map's
 * throughput, measured).
 */
export class ListPath {
  index = 0;
  readonly #name: string;
  readonly #parent: ListPath | undefined;
  /** The item at `index`. */
  readonly at: () => string;

  /** `name` names the list, after the item of `parent` it belongs to, if any. */
  constructor(name: string, parent?: ListPath) {
    this.#name = name;
    this.#parent = parent;
    this.at = () => `${this.list()}[${this.index}]`;
  }

  /** The list itself (`args`, `callback args`, `calls[3].args`). */
  list(): string {
    return this.#parent ? `${this.#parent.at()}${this.#name}` : this.#name;
  }
}

/** Encodes each value of a list; a refusal names its item through `path`. */
export function toValues(values: readonly unknown[], path: ListPath, refs?: RefCodec): Value[] {
  const out = new Array<Value>(values.length);
  for (let i = 0; i < values.length; i++) {
    path.index = i;
    out[i] = toValue(values[i], path.at, refs);
  }
  return out;
}

/** Decodes each value of a list; a refusal names its item through `path`. */
export function fromValues(values: readonly Value[], path: ListPath, refs?: RefCodec): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    path.index = i;
    out[i] = fromValue(values[i], path.at, refs);
  }
  return out;
}

/**
 * A call's arguments as received, on every path a call arrives by (Invoke, a
 * session call, a batch entry, a callback): at most `VALUE_LIMITS.maxArgs` of
 * them, each decoded.
 */
export function decodeArgs(args: readonly Value[], path: ListPath, refs?: RefCodec): unknown[] {
  if (args.length > VALUE_LIMITS.maxArgs) {
    const field = path.list();
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      `${field}: at most ${VALUE_LIMITS.maxArgs} arguments, got ${args.length}`,
      { field },
    );
  }
  return fromValues(args, path, refs);
}
