import { toRemoteError } from "../client/remote-error.js";

/** Exit status of a failed command (usage errors exit 2, through commander). */
export const EXIT_FAILURE = 1;

/** Prints a failure as one line on stderr and sets a non-zero exit status. */
export function reportFailure(err: unknown): void {
  const error = toRemoteError(err);
  process.stderr.write(`ferry: ${error.message}\n`);
  process.exitCode = EXIT_FAILURE;
}

/** Writes one JSON value: pretty for people, one line for scripts (`--json`). */
export function printJson(value: unknown, compact: boolean): void {
  process.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`);
}

/** Reads a millisecond option, refusing anything but a positive integer. */
export function parseMs(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`${name} must be a positive integer of milliseconds, got ${JSON.stringify(value)}`);
  return n;
}

/** A result as JSON-ready data: bigints as decimal strings, bytes as base64. */
export function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      return v;
    }) ?? "null",
  );
}

/** All of stdin as text; empty when stdin is a terminal. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
