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
