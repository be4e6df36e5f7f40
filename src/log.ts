import { type DestinationStream, type Logger, pino } from "pino";

/** How log lines are written: `pretty` for people (`ferry node: …`), `json` for log shippers. */
export type LogFormat = "pretty" | "json";

/** The least severe level written; `silent` writes nothing. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export const LOG_FORMATS: readonly LogFormat[] = ["pretty", "json"];
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** Fields that travel with a line: in JSON, keys of its object; in pretty lines, not shown. */
export type LogFields = Record<string, unknown>;

/** ferry's logger: a message in ferry's words, and fields for machines. */
export interface Log {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Options of {@link createLog}. */
export interface LogOptions {
  /** Who is speaking: `ferry node`. */
  name: string;
  format?: LogFormat;
  level?: LogLevel;
  /** Where each line goes (without its newline). Default: stderr. */
  write?: (line: string) => void;
}

/**
 * Keys whose values are never written, wherever they are in a line's fields:
 * a token or a key in a log would hand it to whoever reads the logs.
 */
const REDACTED = ["token", "authorization", "key", "privateKey", "password"];

/**
 * The one logger of a node and the CLI, on pino: every line is a JSON
 * object (level, time, name, msg and the fields), written as it is with
 * `json`, or as `name: msg` with `pretty`.
 */
export function createLog(options: LogOptions): Log {
  const format = options.format ?? "pretty";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const destination: DestinationStream = {
    write(json: string) {
      const line = json.endsWith("\n") ? json.slice(0, -1) : json;
      if (format === "json") write(line);
      else write(`${options.name}: ${(JSON.parse(line) as { msg?: string }).msg ?? ""}`);
    },
  };
  const logger = pino(
    {
      name: options.name,
      level: options.level ?? "info",
      base: { pid: process.pid },
      redact: { paths: REDACTED.flatMap((k) => [k, `*.${k}`]), censor: "[redacted]" },
    },
    destination,
  );
  return fromPino(logger);
}

function fromPino(logger: Logger): Log {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: LogFields): void => {
      if (fields) logger[level](fields, message);
      else logger[level](message);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that writes nothing. */
export const SILENT: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
