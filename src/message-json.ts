import { loadContract } from "./contract.js";

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

/**
 * A message as JSON-ready data with every field present (defaults included, so
 * `"prime": false` is printed, not dropped): 64-bit integers as decimal
 * strings (exact in any JSON reader), enums by name.
 */
export function messageToJson(fullName: string, message: unknown): Record<string, unknown> {
  const fields = (loadContract()[fullName] as { type: { field: FieldDescriptor[] } }).type.field;
  const source = (message ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = source[field.name];
    out[field.name] =
      field.label === "LABEL_REPEATED"
        ? ((value as unknown[] | undefined) ?? []).map((v) => convert(fullName, field, v))
        : convert(fullName, field, value);
  }
  return out;
}

function convert(parent: string, field: FieldDescriptor, value: unknown): unknown {
  if (value === undefined || value === null) return field.type === "TYPE_MESSAGE" ? null : value;
  if (typeof value === "bigint") return value.toString();
  if (field.type === "TYPE_ENUM") {
    const enumName = `${parent.slice(0, parent.lastIndexOf("."))}.${field.typeName}`;
    const values = (loadContract()[enumName] as { type: { value: { name: string; number: number }[] } }).type
      .value;
    return values.find((v) => v.number === value)?.name ?? value;
  }
  if (field.type === "TYPE_MESSAGE") {
    return messageToJson(`${parent.slice(0, parent.lastIndexOf("."))}.${field.typeName}`, value);
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}
