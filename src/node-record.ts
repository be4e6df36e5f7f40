/** What a node publishes about itself in the registry, one JSON value per node. */
export interface NodeRecord {
  /** host:port where clients reach it. */
  address: string;
  /** Worker slots (Node.Info `workers`). */
  slots: number;
  /** Typed services and exposed objects it hosts. */
  objects: string[];
  tags: Record<string, string>;
  version: string;
  protocol: number;
  contract: string;
  hostname: string;
  pid: number;
  /** When it registered (ISO 8601). */
  since: string;
}

/** Key prefix of node records in etcd; a node's key is the prefix and its address. */
export const REGISTRY_PREFIX = "ferry/v1/nodes/";

/** Most bytes of a record read from the registry: a bad entry cannot fill a client's memory. */
export const MAX_RECORD_BYTES = 64 * 1024;

/** The etcd endpoints of an `etcd://host:port[,host:port…]` registry URL. */
export function parseRegistryUrl(url: string): { hosts: string[]; url: string } {
  const match = /^etcd:\/\/([^/?#]+)\/?$/.exec(typeof url === "string" ? url.trim() : "");
  if (!match) {
    throw new TypeError(
      `registry must be etcd://host:port (several: etcd://a:2379,b:2379), got ${JSON.stringify(url)}`,
    );
  }
  const hosts = (match[1] as string).split(",").map((hostPort) => {
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+):(\d{1,5})$/i.exec(hostPort);
    const port = m ? Number(m[2]) : Number.NaN;
    if (!m || port < 1 || port > 65535) {
      throw new TypeError(`registry ${JSON.stringify(url)}: ${JSON.stringify(hostPort)} is not host:port`);
    }
    return `http://${hostPort}`;
  });
  return { hosts, url: url.trim() };
}

/** Reads `key=value` tags (as `--tag` and `--where` take them) into an object. */
export function parseTags(pairs: readonly string[], flag = "tag"): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    for (const part of pair.split(",")) {
      const eq = part.indexOf("=");
      const key = eq > 0 ? part.slice(0, eq).trim() : "";
      if (!/^[A-Za-z0-9_.\-/]{1,63}$/.test(key) || part.length > 320) {
        throw new TypeError(
          `${flag} must be key=value (key: letters, digits, _.-/, at most 63), got ${JSON.stringify(part)}`,
        );
      }
      tags[key] = part.slice(eq + 1).trim();
    }
  }
  return tags;
}

/** Whether a node carries every tag of `where`. */
export function matchesWhere(record: NodeRecord, where: Record<string, string> | undefined): boolean {
  if (!where) return true;
  for (const [key, value] of Object.entries(where)) {
    if (!Object.hasOwn(record.tags, key) || record.tags[key] !== value) return false;
  }
  return true;
}

/** Reads a record from the registry, or undefined when it is not one (it is then ignored). */
export function decodeRecord(text: string): NodeRecord | undefined {
  if (text.length > MAX_RECORD_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Partial<NodeRecord>;
  if (typeof r.address !== "string" || r.address === "") return undefined;
  const tags: Record<string, string> = {};
  if (typeof r.tags === "object" && r.tags !== null) {
    for (const [k, v] of Object.entries(r.tags)) if (typeof v === "string") tags[k] = v;
  }
  return {
    address: r.address,
    slots: Number.isInteger(r.slots) ? (r.slots as number) : 0,
    objects: Array.isArray(r.objects) ? r.objects.filter((o): o is string => typeof o === "string") : [],
    tags,
    version: typeof r.version === "string" ? r.version : "",
    protocol: Number.isInteger(r.protocol) ? (r.protocol as number) : 0,
    contract: typeof r.contract === "string" ? r.contract : "",
    hostname: typeof r.hostname === "string" ? r.hostname : "",
    pid: Number.isInteger(r.pid) ? (r.pid as number) : 0,
    since: typeof r.since === "string" ? r.since : "",
  };
}
