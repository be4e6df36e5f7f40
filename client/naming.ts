import { Code } from "../src/code.js";
import type { NodeRecord } from "../src/node-record.js";
import { acquireChannel } from "./channel.js";
import { type ConnectOptions, connect, type NodeConnection } from "./connect.js";
import { EtcdResolver } from "./etcd-resolver.js";
import { checkHealth } from "./health-check.js";
import { PROBE_TIMEOUT_MS } from "./pool-member.js";
import { RemoteError } from "./remote-error.js";
import { clientSecurity } from "./security.js";

/** Options of the registry look-ups. */
export interface LookupOptions {
  /** Only nodes carrying every one of these tags. */
  where?: Record<string, string>;
}

/** A `ferry+etcd://host:port/name` URI read into the registry and the object's name. */
export function parseNameUri(uri: string): { registry: string; object: string } {
  const match = /^ferry\+etcd:\/\/([^/?#]+)\/([^/?#]+)$/.exec(typeof uri === "string" ? uri.trim() : "");
  if (!match) {
    throw new TypeError(`${JSON.stringify(uri)} is not ferry+etcd://host:port/ObjectName`);
  }
  return { registry: `etcd://${match[1]}`, object: decodeURIComponent(match[2] as string) };
}

/**
 * The nodes registered in etcd (`etcd://host:port`), optionally only those
 * hosting `object` and carrying the `where` tags, in address order.
 */
export async function listNodes(
  registry: string,
  options: LookupOptions & { object?: string } = {},
): Promise<NodeRecord[]> {
  const resolver = new EtcdResolver(registry, options);
  try {
    const records = await resolver.list();
    return records.sort((a, b) => a.address.localeCompare(b.address));
  } catch (err) {
    throw new RemoteError(
      Code.UNAVAILABLE,
      `${resolver.description} unreachable: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    resolver.close();
  }
}

/**
 * The registered nodes hosting an object: `lookup("ferry+etcd://10.0.0.2:2379/calc")`
 * (Pyro's `PYRONAME:` lookup). Rejects with NOT_FOUND when none does.
 */
export async function lookup(uri: string, options: LookupOptions = {}): Promise<NodeRecord[]> {
  const { registry, object } = parseNameUri(uri);
  const records = await listNodes(registry, { ...options, object });
  if (records.length === 0) {
    const where = Object.entries(options.where ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    throw new RemoteError(
      Code.NOT_FOUND,
      `no node registered in ${registry} hosts ${JSON.stringify(object)}${where ? ` with ${where}` : ""}`,
    );
  }
  return records;
}

/**
 * Connects to a healthy node hosting the named object, picked at random
 * among those registered; its proxies call that object by default:
 *
 * ```ts
 * await using conn = await connectByName("ferry+etcd://10.0.0.2:2379/calc");
 * const calc = conn.proxy<Calculator>();
 * ```
 *
 * Calls then go straight to the node: the registry is not on the data path.
 */
export async function connectByName(
  uri: string,
  options: LookupOptions & ConnectOptions = {},
): Promise<NodeConnection> {
  const { object } = parseNameUri(uri);
  const records = await lookup(uri, options);
  const reasons: string[] = [];
  for (const record of shuffle(records)) {
    const conn = connect(`ferry://${record.address}/${encodeURIComponent(object)}`, options);
    // The same channel as the connection's: a healthy node is dialed once.
    const { client, release } = acquireChannel(conn.target, {}, clientSecurity(options));
    try {
      await checkHealth(client, PROBE_TIMEOUT_MS);
      return conn;
    } catch (err) {
      reasons.push(`${record.address}: ${err instanceof RemoteError ? err.details : String(err)}`);
      conn.close();
    } finally {
      release();
    }
  }
  throw new RemoteError(
    Code.UNAVAILABLE,
    `no node hosting ${JSON.stringify(object)} answers: ${reasons.join("; ")}`,
  );
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
