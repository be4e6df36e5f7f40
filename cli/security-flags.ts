import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { SecurityOptions } from "../client/security.js";

/** Flags of every command that calls nodes. */
export interface SecurityFlags {
  tls?: string;
  ca?: string;
  tokenFile?: string;
}

/** Adds --tls, --ca and --token-file to a command that calls nodes. */
export function securityOptions(command: Command): Command {
  return command
    .option("--ca <file>", "TLS: the CA (PEM) that signed the nodes' certificates")
    .option("--tls <prefix>", "mutual TLS: this client's certificate <prefix>.pem and key <prefix>-key.pem")
    .option("--token-file <file>", "the nodes' shared token, read from a file (default: FERRY_TOKEN)");
}

/** The connect()/createPool() security options the flags (and FERRY_TOKEN) name. */
export function securityFrom(flags: SecurityFlags): SecurityOptions {
  const token = readToken(flags.tokenFile);
  const tls =
    flags.ca !== undefined || flags.tls !== undefined
      ? {
          ...(flags.ca !== undefined ? { ca: flags.ca } : {}),
          ...(flags.tls !== undefined ? { cert: `${flags.tls}.pem`, key: `${flags.tls}-key.pem` } : {}),
        }
      : undefined;
  return { ...(tls ? { tls } : {}), ...(token !== undefined ? { token } : {}) };
}

/** A token from `--token-file`, else FERRY_TOKEN; surrounding whitespace (a final newline) is not part of it. */
export function readToken(file: string | undefined): string | undefined {
  let text: string | undefined;
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new TypeError(`--token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  } else text = process.env.FERRY_TOKEN;
  if (text === undefined) return undefined;
  const token = text.trim();
  if (token === "")
    throw new TypeError(`${file !== undefined ? `--token-file ${file}` : "FERRY_TOKEN"} is empty`);
  return token;
}
