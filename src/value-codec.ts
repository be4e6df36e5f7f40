import { Code } from "./code.js";
import { type ObjectRef, RefOwner, type Value } from "./gen/ferry/v1/value.js";
import { ServerError } from "./server-error.js";
import { VALUE_LIMITS, type ValueLimits } from "./value-limits.js";

const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;
const UINT64_LIMIT = 1n << 64n;

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

/** Encoding refused a value; the message names the path, e.g. `args[1].when`. */
function refuse(path: string, message: string): ServerError {
  return new ServerError(Code.INVALID_ARGUMENT, `${path}: ${message}`, { field: path });
}

/**
 * Encodes a JavaScript value as a Value. Plain data travels by value; functions
 * and class instances travel as refs when `refs` can make one, and are refused
 * otherwise. Cycles, symbols and values past the limits are refused with the
 * path of the offending part.
 */
export function toValue(
  value: unknown,
  path: string,
  refs?: RefCodec,
  limits: ValueLimits = VALUE_LIMITS,
): Value {
  const budget = { items: limits.maxItems };
  return encode(value, path, 0, new Set(), refs, limits, budget);
}

function encode(
  value: unknown,
  path: string,
  depth: number,
  seen: Set<object>,
  refs: RefCodec | undefined,
  limits: ValueLimits,
  budget: { items: number },
): Value {
  switch (typeof value) {
    case "undefined":
      return { nullValue: 0 };
    case "boolean":
      return { boolValue: value };
    case "number":
      return { doubleValue: value };
    case "bigint":
      if (value >= INT64_MIN && value < INT64_LIMIT) return { int64Value: value };
      if (value >= 0n && value < UINT64_LIMIT) return { uint64Value: value };
      throw refuse(path, `bigint ${value} does not fit in 64 bits`);
    case "string":
      if (value.length > limits.maxBytes)
        throw refuse(path, `string longer than maxBytes (${limits.maxBytes})`);
      return { stringValue: value };
    case "symbol":
      throw refuse(path, "symbols cannot be sent");
    case "function": {
      const ref = refs?.toRef(value);
      if (!ref) throw refuse(path, "functions can only be sent as callbacks over a session");
      return { ref };
    }
  }
  if (value === null) return { nullValue: 0 };
  const object = value as object;
  if (object instanceof Uint8Array) {
    if (object.byteLength > limits.maxBytes)
      throw refuse(path, `bytes longer than maxBytes (${limits.maxBytes})`);
    return { bytesValue: Buffer.from(object.buffer, object.byteOffset, object.byteLength) };
  }
  if (depth >= limits.maxDepth) throw refuse(path, `nested deeper than maxDepth (${limits.maxDepth})`);
  if (seen.has(object)) throw refuse(path, "cyclic value: it contains itself");
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      budget.items -= object.length;
      if (budget.items < 0) throw refuse(path, `more than maxItems (${limits.maxItems}) items`);
      // Index by index: a sparse array's holes are null, as in JSON (map() would keep them holes).
      const values = new Array<Value>(object.length);
      for (let i = 0; i < object.length; i++) {
        values[i] = encode(object[i], `${path}[${i}]`, depth + 1, seen, refs, limits, budget);
      }
      return { listValue: { values } };
    }
    if (object instanceof Map) {
      budget.items -= object.size;
      if (budget.items < 0) throw refuse(path, `more than maxItems (${limits.maxItems}) items`);
      const entries = [];
      for (const [key, item] of object) {
        if (typeof key !== "string") throw refuse(path, "only Maps with string keys can be sent");
        entries.push({ key, value: encode(item, `${path}.${key}`, depth + 1, seen, refs, limits, budget) });
      }
      return { mapValue: { entries } };
    }
    // The side's ref codec decides first: a plain object may be a callback
    // object (client) or marked to travel by reference (node).
    const ref = refs?.toRef(object);
    if (ref) return { ref };
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(object);
      budget.items -= keys.length;
      if (budget.items < 0) throw refuse(path, `more than maxItems (${limits.maxItems}) items`);
      const record = object as Record<string, unknown>;
      return {
        mapValue: {
          entries: keys.map((key) => ({
            key,
            value: encode(record[key], `${path}.${key}`, depth + 1, seen, refs, limits, budget),
          })),
        },
      };
    }
    const name = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
    throw refuse(path, `a ${name} cannot be sent by value; send plain data or expose it`);
  } finally {
    seen.delete(object);
  }
}

/**
 * Decodes a Value received from the other side. Decoding never builds objects
 * with a prototype other than Object.prototype and never sets one: a key named
 * "__proto__" becomes an ordinary own property.
 */
export function fromValue(
  value: Value | undefined,
  path: string,
  refs?: RefCodec,
  limits: ValueLimits = VALUE_LIMITS,
): unknown {
  const budget = { items: limits.maxItems };
  return decode(value, path, 0, refs, limits, budget);
}

function decode(
  value: Value | undefined,
  path: string,
  depth: number,
  refs: RefCodec | undefined,
  limits: ValueLimits,
  budget: { items: number },
): unknown {
  if (value === undefined || value.nullValue !== undefined) return null;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.int64Value !== undefined) return value.int64Value;
  if (value.uint64Value !== undefined) return value.uint64Value;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.bytesValue !== undefined) return new Uint8Array(value.bytesValue);
  if (value.ref !== undefined) {
    if (!refs) throw refuse(path, "object references only travel over a session");
    return refs.fromRef(value.ref);
  }
  if (depth >= limits.maxDepth) throw refuse(path, `nested deeper than maxDepth (${limits.maxDepth})`);
  if (value.listValue !== undefined) {
    const items = value.listValue.values;
    budget.items -= items.length;
    if (budget.items < 0) throw refuse(path, `more than maxItems (${limits.maxItems}) items`);
    return items.map((item, i) => decode(item, `${path}[${i}]`, depth + 1, refs, limits, budget));
  }
  if (value.mapValue !== undefined) {
    const entries = value.mapValue.entries;
    budget.items -= entries.length;
    if (budget.items < 0) throw refuse(path, `more than maxItems (${limits.maxItems}) items`);
    const out: Record<string, unknown> = {};
    for (const { key, value: item } of entries) {
      const decoded = decode(item, `${path}.${key}`, depth + 1, refs, limits, budget);
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
  // No kind set: an empty message, or a kind of a newer protocol than this side's.
  throw refuse(path, "Value has no kind this side understands (send null_value for null)");
}

export { RefOwner };
