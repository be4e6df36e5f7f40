// Words and rules for the addresses a node (and its metrics) listens on.

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
