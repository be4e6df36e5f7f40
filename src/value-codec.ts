import { Code } from "./code.js";
import type { MapValue, ObjectRef, Value } from "./gen/ferry/v1/value.js";
import { ServerError } from "./server-error.js";
import { VALUE_LIMITS, type ValueLimits } from "./value-limits.js";

const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;
const UINT64_LIMIT = 1n << 64n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * How a side turns objects that travel by reference into refs and back.
 * Without one, functions and class instances cannot be sent.
 */
export interface RefCodec {
  /** A ref for a function or a non-plain object, or undefined when it cannot travel. */
  toRef(value: object): ObjectRef | undefined;
  /** The local stand-in (a proxy or the held object) for a ref received. */
  fromRef(ref: ObjectRef): unknown;
}

/**
 * Where in a value the codec is: a string, or a function that makes it. A
 * function costs nothing until something is refused, which matters when every
 * item of a million-item map would otherwise build its own `calls[i][0]`.
 */
export type ValuePath = string | (() => string);

/**
 * A refusal on its way up from the part that was refused: each level it passes
 * adds its step (`[3]`, `.when`), and only then is the path written out. Values
 * that encode never build a path string.
 */
class Refusal {
  readonly steps: string[] = [];
  constructor(
    readonly message: string,
    readonly code: Code = Code.INVALID_ARGUMENT,
  ) {}
}

/**
 * What a {@link RefCodec} throws to refuse a value with `code`: the codec
 * writes the path of the part in front of `message`, as for its own refusals.
 */
export function refusal(code: Code, message: string): unknown {
  return new Refusal(message, code);
}

/** Adds `step` to a refusal passing through; anything else passes unchanged. */
function through(error: unknown, step: string | number): never {
  if (error instanceof Refusal) error.steps.push(typeof step === "number" ? `[${step}]` : `.${step}`);
  throw error;
}

/** The ServerError a refusal becomes, its message naming the path, e.g. `args[1].when`. */
function refused(error: unknown, path: ValuePath): never {
  if (!(error instanceof Refusal)) throw error;
  const at = (typeof path === "string" ? path : path()) + error.steps.reverse().join("");
  throw new ServerError(error.code, `${at}: ${error.message}`, { field: at });
}

/** What one encode or decode carries down: limits, the items left, the objects on the way. */
interface Walk {
  refs: RefCodec | undefined;
  limits: ValueLimits;
  items: number;
  seen: Set<object> | undefined;
}

/**
 * Encodes a JavaScript value as a Value. Plain data travels by value; functions
 * and class instances travel as refs when `refs` can make one, and are refused
 * otherwise. Cycles, symbols and values past the limits are refused with the
 * path of the offending part.
 *
 * A number is sent as double_value; a bigint as bigint_value (uint64_value
 * from 2^63 up), so it arrives a bigint again. The rule for every language is in value.proto.
 */
export function toValue(
  value: unknown,
  path: ValuePath,
  refs?: RefCodec,
  limits: ValueLimits = VALUE_LIMITS,
): Value {
  try {
    // Numbers, strings and the like need no walk state.
    if (typeof value !== "object" && typeof value !== "function") return scalar(value, limits);
    return encode(value, 0, { refs, limits, items: limits.maxItems, seen: undefined });
  } catch (error) {
    refused(error, path);
  }
}

function scalar(value: unknown, limits: ValueLimits): Value {
  switch (typeof value) {
    case "boolean":
      return { boolValue: value };
    case "number":
      // A JavaScript number is a double, whole or not: sent as one, it costs no
      // conversion to a 64-bit integer (a map of tiny calls is mostly numbers).
      return { doubleValue: value };
    case "bigint":
      // Its own kind, so that a bigint stays a bigint on the other side, however small.
      if (value >= INT64_MIN && value < INT64_LIMIT) return { bigintValue: value };
      if (value >= 0n && value < UINT64_LIMIT) return { uint64Value: value };
      throw new Refusal(`bigint ${value} does not fit in 64 bits`);
    case "string":
      // In UTF-8 bytes, as it travels; a string of n UTF-16 units is at most 3n bytes,
      // so only a long one is measured.
      if (value.length * 3 > limits.maxBytes && Buffer.byteLength(value, "utf8") > limits.maxBytes) {
        throw new Refusal(
          `string of ${Buffer.byteLength(value, "utf8")} bytes (UTF-8) is longer than maxBytes (${limits.maxBytes})`,
        );
      }
      return { stringValue: value };
    case "symbol":
      throw new Refusal("symbols cannot be sent");
    default:
      return { nullValue: 0 };
  }
}

function encode(value: unknown, depth: number, walk: Walk): Value {
  if (typeof value === "function") {
    const ref = walk.refs?.toRef(value);
    if (!ref) throw new Refusal("functions can only be sent as callbacks over a session");
    return { ref };
  }
  if (typeof value !== "object") return scalar(value, walk.limits);
  if (value === null) return { nullValue: 0 };
  const object = value as object;
  const { limits } = walk;
  if (object instanceof Uint8Array) {
    if (object.byteLength > limits.maxBytes)
      throw new Refusal(`bytes longer than maxBytes (${limits.maxBytes})`);
    return { bytesValue: Buffer.from(object.buffer, object.byteOffset, object.byteLength) };
  }
  if (depth >= limits.maxDepth) throw new Refusal(`nested deeper than maxDepth (${limits.maxDepth})`);
  walk.seen ??= new Set();
  if (walk.seen.has(object)) throw new Refusal("cyclic value: it contains itself");
  walk.seen.add(object);
  try {
    if (Array.isArray(object)) {
      spend(walk, object.length);
      // Index by index: a sparse array's holes are null, as in JSON (map() would keep them holes).
      const values = new Array<Value>(object.length);
      for (let i = 0; i < object.length; i++) {
        try {
          values[i] = encode(object[i], depth + 1, walk);
        } catch (error) {
          through(error, i);
        }
      }
      return { listValue: { values } };
    }
    if (object instanceof Map) {
      spend(walk, object.size);
      const entries = [];
      for (const [key, item] of object) {
        if (typeof key !== "string") throw new Refusal("only Maps with string keys can be sent");
        try {
          entries.push({ key, value: encode(item, depth + 1, walk) });
        } catch (error) {
          through(error, key);
        }
      }
      return { mapValue: { entries } };
    }
    // The side's ref codec decides first: a plain object may be a callback
    // object (client) or marked to travel by reference (node).
    const ref = walk.refs?.toRef(object);
    if (ref) return { ref };
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(object);
      spend(walk, keys.length);
      const record = object as Record<string, unknown>;
      const entries = new Array<{ key: string; value: Value }>(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        try {
          entries[i] = { key, value: encode(record[key], depth + 1, walk) };
        } catch (error) {
          through(error, key);
        }
      }
      return { mapValue: { entries } };
    }
    const name = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
    throw new Refusal(`a ${name} cannot be sent by value; send plain data or expose it`);
  } finally {
    walk.seen.delete(object);
  }
}

/** Takes `count` items from the walk's budget, refusing the value past maxItems. */
function spend(walk: Walk, count: number): void {
  walk.items -= count;
  if (walk.items < 0) throw new Refusal(`more than maxItems (${walk.limits.maxItems}) items`);
}

/**
 * Decodes a Value received from the other side. Decoding never builds objects
 * with a prototype other than Object.prototype and never sets one: a key named
 * "__proto__" becomes an ordinary own property.
 *
 * int64_value and uint64_value, the integers other languages send, become
 * numbers when they are safe integers and bigints otherwise; bigint_value is
 * always a bigint.
 */
export function fromValue(
  value: Value | undefined,
  path: ValuePath,
  refs?: RefCodec,
  limits: ValueLimits = VALUE_LIMITS,
): unknown {
  try {
    const simple = leaf(value, refs);
    if (simple !== COMPOUND) return simple;
    return decode(value as Value, 0, { refs, limits, items: limits.maxItems, seen: undefined });
  } catch (error) {
    refused(error, path);
  }
}

/** What {@link leaf} answers for a list or a map, which {@link decode} walks. */
const COMPOUND = Symbol("compound");

/** A Value that is neither list nor map, or {@link COMPOUND}. */
function leaf(value: Value | undefined, refs: RefCodec | undefined): unknown {
  if (value === undefined || value.nullValue !== undefined) return null;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.int64Value !== undefined) return integer(value.int64Value);
  if (value.uint64Value !== undefined) return integer(value.uint64Value);
  if (value.bigintValue !== undefined) return value.bigintValue;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.bytesValue !== undefined) return new Uint8Array(value.bytesValue);
  if (value.ref !== undefined) {
    if (!refs) throw new Refusal("object references only travel over a session");
    return refs.fromRef(value.ref);
  }
  if (value.listValue !== undefined || value.mapValue !== undefined) return COMPOUND;
  // No kind set: an empty message, or a kind of a newer protocol than this side's.
  throw new Refusal("Value has no kind this side understands (send null_value for null)");
}

/**
 * An integer of any language (Python's int, Go's int64) as a number when it is
 * a safe integer, so methods written for numbers take it, and as a bigint
 * otherwise, so that it is never rounded.
 */
function integer(n: bigint): number | bigint {
  return n >= -SAFE_MAX && n <= SAFE_MAX ? Number(n) : n;
}

function decode(value: Value | undefined, depth: number, walk: Walk): unknown {
  const simple = leaf(value, walk.refs);
  if (simple !== COMPOUND) return simple;
  value = value as Value;
  if (depth >= walk.limits.maxDepth) {
    throw new Refusal(`nested deeper than maxDepth (${walk.limits.maxDepth})`);
  }
  if (value.listValue !== undefined) {
    const items = value.listValue.values;
    spend(walk, items.length);
    const out = new Array<unknown>(items.length);
    for (let i = 0; i < items.length; i++) {
      try {
        out[i] = decode(items[i], depth + 1, walk);
      } catch (error) {
        through(error, i);
      }
    }
    return out;
  }
  const entries = (value.mapValue as MapValue).entries;
  spend(walk, entries.length);
  const out: Record<string, unknown> = {};
  for (const { key, value: item } of entries) {
    let decoded: unknown;
    try {
      decoded = decode(item, depth + 1, walk);
    } catch (error) {
      through(error, key);
    }
    // Assigning "__proto__" would replace the prototype; define it as data instead.
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: decoded,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = decoded;
    }
  }
  return out;
}
