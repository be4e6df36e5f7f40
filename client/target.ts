/**
 * Reads a node address as users write it: `host:port`, `[v6]:port`,
 * `ferry://host:port` (a trailing `/object` is ignored here), or any gRPC
 * target scheme (`dns:///name:port`, `unix:/path`) passed through unchanged.
 */
export function parseTarget(target: string): string {
  if (typeof target !== "string" || target.trim() === "") {
    throw new TypeError('target must be a node address such as "127.0.0.1:50051"');
  }
  const trimmed = target.trim();
  if (trimmed.startsWith("ferry://")) {
    const rest = trimmed.slice("ferry://".length);
    const slash = rest.indexOf("/");
    return checkHostPort(slash === -1 ? rest : rest.slice(0, slash), target);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) && !/^[^:/]+:\d+$/.test(trimmed)) {
    if (/^(dns|unix|ipv4|ipv6|unix-abstract):/.test(trimmed)) return trimmed;
    throw new TypeError(
      `target ${JSON.stringify(target)} has an unknown scheme; use host:port or ferry://host:port`,
    );
  }
  return checkHostPort(trimmed, target);
}

/** A `ferry://host:port/object` URI read into the node's address and the object's name. */
export function parseObjectUri(uri: string): { target: string; object: string | undefined } {
  const target = parseTarget(uri);
  if (!uri.trim().startsWith("ferry://")) return { target, object: undefined };
  const rest = uri.trim().slice("ferry://".length);
  const slash = rest.indexOf("/");
  const object = slash === -1 ? "" : decodeURIComponent(rest.slice(slash + 1));
  return { target, object: object === "" ? undefined : object };
}

function checkHostPort(hostPort: string, original: string): string {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]/\s]+):(\d{1,5})$/i.exec(hostPort);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new TypeError(`target ${JSON.stringify(original)} is not host:port with a port from 1 to 65535`);
  }
  return hostPort;
}
