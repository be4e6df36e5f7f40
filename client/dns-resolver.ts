import { lookup } from "node:dns/promises";
import type { ResolvedNode, Resolver } from "./resolver.js";

/** How often a DNS name is resolved again, by default: scaled-up pods join within this. */
export const DNS_REFRESH_MS = 5_000;

/**
 * Every address of a DNS name, as separate nodes (a Kubernetes headless
 * Service name gives one address per pod), resolved again periodically so
 * nodes that come and go are followed. Reads `dns:///name:port`; the system
 * resolver answers (so /etc/hosts entries count), and an authority
 * (`dns://8.8.8.8/…`) is refused.
 */
export class DnsResolver implements Resolver {
  readonly description: string;
  readonly #host: string;
  readonly #port: number;
  readonly #refreshMs: number;
  #timer: NodeJS.Timeout | undefined;
  #last = "";
  #closed = false;

  constructor(uri: string, refreshMs = DNS_REFRESH_MS) {
    const { host, port } = parseDnsTarget(uri);
    this.#host = host;
    this.#port = port;
    this.#refreshMs = refreshMs;
    this.description = uri;
  }

  start(update: (nodes: ResolvedNode[]) => void, error: (err: Error) => void): void {
    const resolve = async () => {
      try {
        const addresses = await lookup(this.#host, { all: true });
        if (this.#closed) return;
        const targets = [
          ...new Set(
            addresses.map((a) =>
              a.family === 6 ? `[${a.address}]:${this.#port}` : `${a.address}:${this.#port}`,
            ),
          ),
        ].sort();
        const key = targets.join(",");
        if (key !== this.#last) {
          this.#last = key;
          update(targets.map((target) => ({ target })));
        }
      } catch (err) {
        if (this.#closed) return;
        const code = (err as { code?: string }).code;
        error(
          new Error(`${this.description}: cannot resolve ${this.#host}${code ? ` (${code})` : ""}`, {
            cause: err,
          }),
        );
      } finally {
        if (!this.#closed) {
          this.#timer = setTimeout(() => void resolve(), this.#refreshMs);
          this.#timer.unref();
        }
      }
    };
    void resolve();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

/** Reads `dns:///name:port` (or `dns:name:port`). */
export function parseDnsTarget(uri: string): { host: string; port: number } {
  const match = /^dns:(?:\/\/([^/]*)\/)?(\[[0-9a-f:.]+\]|[^:/[\]\s]+):(\d{1,5})$/i.exec(uri.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new TypeError(`${JSON.stringify(uri)} is not dns:///name:port with a port from 1 to 65535`);
  }
  if (match[1]) {
    throw new TypeError(
      `${JSON.stringify(uri)}: a DNS server in the target is not supported; use dns:///name:port`,
    );
  }
  const host = (match[2] as string).replace(/^\[|\]$/g, "");
  return { host, port };
}
