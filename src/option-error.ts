/**
 * An option outside what it may be. `option` is its path in the options
 * given (`port`, `limits.maxConnections`) and the message starts with that
 * path, so a command line can tell the same error with its own flag in its
 * place (`--port must be …`): each option is checked once, where it is used.
 */
export class OptionError extends RangeError {
  override name = "OptionError";
  /** The option's path in the options given, e.g. `limits.maxConnections`. */
  readonly option: string;

  /** `problem` follows the path: `new OptionError("port", "must be …, got 99999")`. */
  constructor(option: string, problem: string, options?: ErrorOptions) {
    super(`${option} ${problem}`, options);
    this.option = option;
  }
}

/** `value` when it is an integer from `min` to `max`; otherwise an OptionError at `option`. */
export function integerOption(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return value as number;
  const range =
    max < Number.MAX_SAFE_INTEGER
      ? `an integer from ${min} to ${max}`
      : min === 1
        ? "a positive integer"
        : `an integer of at least ${min}`;
  throw new OptionError(option, `must be ${range}, got ${shown(value)}`);
}

/** A value as an error message shows it: strings quoted, so `"10"` is told from 10. */
export function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
