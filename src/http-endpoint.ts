import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { isLoopback, whyNotBound } from "./bind-address.js";

/** Where a small HTTP endpoint of ferry (a node's /metrics, the dashboard) listens, and how it is guarded. */
export interface HttpServeOptions {
  host: string;
  port: number;
  /** A certificate and key (PEM files): served over HTTPS with them. */
  tls?: { cert: string; key: string };
  /** Every request must carry it: `Authorization: Bearer <token>` (or what `acceptToken` finds). */
  token?: string;
  /** Serve a non-loopback address with neither TLS nor a token. */
  insecure?: boolean;
}

/** An HTTP endpoint, listening. */
export interface HttpEndpoint {
  /** `host:port` it listens on (the real port when 0 was asked). */
  readonly address: string;
  /** `http://…` or `https://…` and the address. */
  readonly url: string;
  close(): Promise<void>;
}

/** What an endpoint serves once a request has passed the token check. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

const digest = (text: string) => createHash("sha256").update(text).digest();

/** The token a request carries in `Authorization: Bearer …`. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer (.+)$/i.exec(req.headers.authorization?.trim() ?? "")?.[1];
}

/**
 * Serves `handler` on `options.host:port`. A non-loopback address follows
 * the node's own rule (TLS, a token, or `insecure`), since what these
 * endpoints show names every method and the load on each. With a token,
 * a request whose `tokenOf` (by default its Bearer header) differs is
 * answered 401 before the handler sees it. `what` names the endpoint in
 * errors: "metrics", "the dashboard".
 */
export async function serveHttp(
  what: string,
  handler: HttpHandler,
  options: HttpServeOptions,
  tokenOf: (req: IncomingMessage) => string | undefined = bearerToken,
): Promise<HttpEndpoint> {
  const { host, port, tls, token } = options;
  const bare = host.replace(/^\[|\]$/g, "");
  const bindHost = bare.includes(":") ? `[${bare}]` : bare;
  if (!tls && token === undefined && !options.insecure && !isLoopback(bare)) {
    throw new Error(
      `refusing to serve ${what} on ${bindHost}:${port} with neither TLS nor a token: anyone who reaches it could read the cluster's load; give --tls or --token-file, or --insecure on a network you trust`,
    );
  }
  const expected = token === undefined ? undefined : digest(token.trim());
  const guarded: HttpHandler = (req, res) => {
    if (expected) {
      const given = tokenOf(req);
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        res
          .writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" })
          .end("a token is required\n");
        return;
      }
    }
    handler(req, res);
  };
  let server: Server;
  try {
    server = tls
      ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, guarded)
      : createServer(guarded);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot serve ${what}: cannot read its certificate or key (${code ?? "not PEM"})`, {
      cause: err,
    });
  }
  server.listen(port, bare);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([err]) => {
        throw err;
      }),
    ]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot serve ${what} on ${bindHost}:${port}: ${whyNotBound(message)}`, { cause: err });
  }
  const address = `${bindHost}:${(server.address() as AddressInfo).port}`;
  return {
    address,
    url: `${tls ? "https" : "http"}://${address}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
