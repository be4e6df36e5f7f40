import { RemoteError } from "../client/remote-error.js";
import { OptionError } from "../src/option-error.js";
import { stdoutOpen, stopReason } from "./command-signal.js";

/** Exit status of a failed command. */
export const EXIT_FAILURE = 1;
/** Exit status of a command given wrong arguments, as commander's own. */
export const EXIT_USAGE = 2;
/** Exit status of a command stopped by Ctrl-C, as a shell reports it. */
export const EXIT_INTERRUPTED = 130;

/** A command given arguments it cannot use: one line, exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Runs a check of the command's arguments: whatever it throws is a usage error. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * A library OptionError told in a command's words: its option's path
 * (`port`, `limits.maxConnections`) becomes the flag that set it (`--port`,
 * `--max-connections`), so the command need not check the option again.
 */
export function inFlags(err: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof OptionError) || !Object.hasOwn(flags, err.option)) return err;
  return new UsageError(`${flags[err.option]}${err.message.slice(err.option.length)}`, { cause: err });
}

let verbose = false;

/** `--verbose`: failures also print the errors beneath them (grpc-js's, OpenSSL's). */
export function setVerbose(on: boolean): void {
  verbose = on;
}

/**
 * Prints a failure as one line on stderr and sets the exit status. A node's
 * answer (a RemoteError) shows its gRPC code; a local failure (a file, a
 * port, the arguments) does not. A command stopped by Ctrl-C says so calmly
 * (130); one whose reader closed stdout ends quietly.
 */
export function reportFailure(err: unknown): void {
  const stopped = stopReason();
  if (stopped === "stdout closed") {
    process.exitCode = 0;
    return;
  }
  if (stopped === "interrupted") {
    process.stderr.write("ferry: interrupted; the calls in flight were cancelled\n");
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  const lines = [`ferry: ${failureLine(err)}`];
  if (verbose) {
    for (let cause = (err as Error)?.cause; cause !== undefined; cause = (cause as Error)?.cause) {
      const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      lines.push(`  cause: ${text.replaceAll("\n", " ")}`);
      if (!(cause instanceof Error)) break;
    }
  }
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exitCode = isUsage(err) ? EXIT_USAGE : EXIT_FAILURE;
}

function failureLine(err: unknown): string {
  const text = err instanceof RemoteError ? err.message : err instanceof Error ? err.message : String(err);
  return text.replaceAll(/\s*\n\s*/g, " ").trim();
}

function isUsage(err: unknown): boolean {
  // Argument checks throw these (here and in the library): wrong input, not a failure of the work.
  return (
    err instanceof UsageError ||
    err instanceof RangeError ||
    err instanceof TypeError ||
    err instanceof SyntaxError
  );
}

/** Writes one JSON value: pretty for people, one line for scripts (`--json`). */
export function printJson(value: unknown, compact: boolean): void {
  if (!stdoutOpen()) return;
  process.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`);
}

/** Reads a millisecond option, refusing anything but a positive integer. */
export function parseMs(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer of milliseconds, got ${JSON.stringify(value)}`);
  return n;
}

/** Reads a number option; what range it must be in is for whatever takes it to check. */
export function parseNumber(value: string, name: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`${name} must be a number, got ${JSON.stringify(value)}`);
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
