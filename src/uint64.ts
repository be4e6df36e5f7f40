import { invalidArgument } from "./server-error.js";

/** 2^64: the first value a uint64 field cannot hold. */
export const UINT64_LIMIT = 1n << 64n;

const DECIMAL = /^\s*\+?\d+\s*$/;

/**
 * Reads an unsigned 64-bit integer given as a bigint, a safe integer number or a
 * decimal string, exactly. Anything else (negative, fractional, unsafe doubles,
 * non-numeric text, 2^64 and above) is an INVALID_ARGUMENT naming `field`.
 *
 * Numbers above 2^53 are refused rather than rounded: JSON clients must send
 * them as strings, because a rounded number would be a silently wrong answer.
 */
export function parseUint64(value: unknown, field: string): bigint {
  let n: bigint;
  if (typeof value === "bigint") {
    n = value;
  } else if (typeof value === "number") {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      throw invalidArgument(field, `must be a non-negative integer below 2^64, got ${value}`);
    }
    if (!Number.isSafeInteger(value)) {
      throw invalidArgument(field, `${value} is above 2^53 and may be rounded; send it as a string`);
    }
    n = BigInt(value);
  } else if (typeof value === "string") {
    if (!DECIMAL.test(value)) {
      throw invalidArgument(
        field,
        `must be a non-negative decimal integer below 2^64, got ${JSON.stringify(value)}`,
      );
    }
    n = BigInt(value.trim());
  } else {
    throw invalidArgument(field, `must be an integer (number, string or bigint), got ${describe(value)}`);
  }
  if (n < 0n) throw invalidArgument(field, `must not be negative, got ${n}`);
  if (n >= UINT64_LIMIT) throw invalidArgument(field, `must be below 2^64 (18446744073709551616), got ${n}`);
  return n;
}

/** Reads an unsigned 32-bit integer (a number or decimal string) or throws INVALID_ARGUMENT. */
export function parseUint32(value: unknown, field: string): number {
  const n = parseUint64(value, field);
  if (n > 0xffffffffn) throw invalidArgument(field, `must be at most 4294967295, got ${n}`);
  return Number(n);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
