import { loadContract } from "./contract.js";
import { invalidArgument } from "./server-error.js";
import { parseUint32, parseUint64 } from "./uint64.js";

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  field: FieldDescriptor[];
}
interface EnumDescriptor {
  value: { name: string; number: number }[];
}

/**
 * Checks a request given as plain data (parsed JSON, or a caller's object)
 * against the message's field types and returns it with exact types: uint64 as
 * bigint, enums as numbers. Every failure is an INVALID_ARGUMENT naming the
 * field: unknown fields, wrong types, integers out of range, unknown enum names.
 *
 * Field names may be lowerCamel (`timeoutMs`) or the proto's snake_case.
 */
export function normalizeMessage(fullName: string, value: unknown, path = ""): Record<string, unknown> {
  const where = path === "" ? "request" : path;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(where, `must be an object with fields of ${shortName(fullName)}`);
  }
  const descriptor = lookup(fullName) as MessageDescriptor;
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const field = descriptor.field.find((f) => f.name === camel);
    const fieldPath = path === "" ? camel : `${path}.${camel}`;
    if (!field) {
      const names = descriptor.field.map((f) => f.name).join(", ");
      throw invalidArgument(fieldPath, `unknown field of ${shortName(fullName)} (fields: ${names})`);
    }
    if (raw === undefined || raw === null) continue;
    if (field.label === "LABEL_REPEATED") {
      if (!Array.isArray(raw)) throw invalidArgument(fieldPath, "must be a list");
      out[camel] = raw.map((item, i) => scalar(field, fullName, item, `${fieldPath}[${i}]`));
    } else {
      out[camel] = scalar(field, fullName, raw, fieldPath);
    }
  }
  return out;
}

function scalar(field: FieldDescriptor, parent: string, value: unknown, path: string): unknown {
  switch (field.type) {
    case "TYPE_UINT64":
    case "TYPE_FIXED64":
      return parseUint64(value, path);
    case "TYPE_UINT32":
    case "TYPE_FIXED32":
      return parseUint32(value, path);
    case "TYPE_INT32":
    case "TYPE_SINT32":
    case "TYPE_SFIXED32":
      if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) > 0x7fffffff) {
        throw invalidArgument(path, `must be a 32-bit integer, got ${String(value)}`);
      }
      return value;
    case "TYPE_DOUBLE":
    case "TYPE_FLOAT":
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw invalidArgument(path, `must be a finite number, got ${String(value)}`);
      }
      return value;
    case "TYPE_BOOL":
      if (typeof value !== "boolean")
        throw invalidArgument(path, `must be true or false, got ${String(value)}`);
      return value;
    case "TYPE_STRING":
      if (typeof value !== "string") throw invalidArgument(path, `must be a string, got ${typeof value}`);
      return value;
    case "TYPE_ENUM":
      return enumValue(resolve(parent, field.typeName), value, path);
    case "TYPE_MESSAGE":
      return normalizeMessage(resolve(parent, field.typeName), value, path);
    default:
      throw invalidArgument(path, `fields of type ${field.type} are not supported`);
  }
}

function enumValue(fullName: string, value: unknown, path: string): number {
  const values = (lookup(fullName) as EnumDescriptor).value;
  if (typeof value === "number") {
    if (values.some((v) => v.number === value)) return value;
  } else if (typeof value === "string") {
    // PrimeMethod's MILLER_RABIN may be written whole, without its prefix, in any case.
    const prefix = `${shortName(fullName)
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .toUpperCase()}_`;
    const upper = value.toUpperCase();
    const found = values.find((v) => v.name === upper || v.name === prefix + upper);
    if (found) return found.number;
  }
  const names = values.map((v) => v.name).join(", ");
  throw invalidArgument(path, `unknown ${shortName(fullName)} ${JSON.stringify(value)} (values: ${names})`);
}

function lookup(fullName: string): unknown {
  const entry = loadContract()[fullName] as { type?: unknown } | undefined;
  if (!entry?.type) throw new Error(`ferry: no descriptor for ${fullName}`);
  return entry.type;
}

function resolve(parent: string, typeName: string): string {
  if (typeName.includes(".")) return typeName.replace(/^\./, "");
  return `${parent.slice(0, parent.lastIndexOf("."))}.${typeName}`;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf(".") + 1);
}
