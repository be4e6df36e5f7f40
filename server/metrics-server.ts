import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { isLoopback, whyNotBound } from "./bind-address.js";

/** How a node's /metrics is served: where, and guarded the way the node is. */
export interface MetricsServeOptions {
  host: string;
  port: number;
  /** The node's certificate and key files: /metrics is served over HTTPS with them. */
  tls?: { cert: string; key: string };
  /** The node's token: a scrape must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Serve a non-loopback address with neither TLS nor a token. */
  insecure?: boolean;
}

/** A node's /metrics endpoint, listening. */
export interface MetricsEndpoint {
  /** `host:port` it listens on (the real port when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Serves `registry` in Prometheus's text format at GET /metrics, and nothing
 * else. A non-loopback address follows the node's own rule: TLS, a token, or
 * `insecure`, since metrics name every exposed method and the load on each.
 */
export async function serveMetrics(
  registry: Registry,
  options: MetricsServeOptions,
): Promise<MetricsEndpoint> {
  const { host, port, tls, token } = options;
  const bindHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  if (!tls && token === undefined && !options.insecure && !isLoopback(host)) {
    throw new Error(
      `refusing to serve metrics on ${bindHost}:${port} with neither TLS nor a token: anyone who reaches it could read the node's load; give --tls or --token-file, or --insecure on a network you trust`,
    );
  }
  const expected = token === undefined ? undefined : digest(token.trim());
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (expected) {
      const given = /^Bearer (.+)$/i.exec(req.headers.authorization?.trim() ?? "")?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        res
          .writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" })
          .end("a token is required\n");
        return;
      }
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("ferry serves /metrics only\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) =>
        res.writeHead(200, { "content-type": registry.contentType }).end(req.method === "HEAD" ? "" : text),
      (err: unknown) =>
        res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(err)}\n`),
    );
  };
  const server: Server = tls
    ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler)
    : createServer(handler);
  server.listen(port, host.replace(/^\[|\]$/g, ""));
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([err]) => {
        throw err;
      }),
    ]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot serve metrics on ${bindHost}:${port}: ${whyNotBound(message)}`, { cause: err });
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `${bindHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
