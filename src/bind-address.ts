// Words and rules for the addresses a node, its metrics and the dashboard listen on.

import { integerOption, OptionError, shown } from "./option-error.js";

/** `host:port`, or a port alone (loopback), checked; `option` names it in the error. */
export function listenAddress(option: string, text: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(typeof text === "string" ? text.trim() : "");
  if (!match) throw new OptionError(option, `must be host:port or a port, got ${shown(text)}`);
  const host = (match[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  return { host, port: integerOption(option, Number(match[2]), 0, 65535) };
}

/** Whether a bind address is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Why grpc-js could not bind, in ferry's words (its own text is the error's cause). */
export function whyNotBound(message: string): string {
  if (message.includes("EADDRINUSE"))
    return "the port is in use (another node or program holds it): give another port, or 0 for a free one";
  if (message.includes("EACCES")) return "permission denied (ports below 1024 need privileges)";
  if (message.includes("EADDRNOTAVAIL")) return "no interface of this machine has that address";
  if (message.includes("ENOTFOUND") || message.includes("EAI_AGAIN")) return "the host name does not resolve";
  return message;
}
