import type { Registry } from "prom-client";
import { type HttpEndpoint, type HttpServeOptions, serveHttp } from "../src/http-endpoint.js";

/** How a node's /metrics is served: where, and guarded the way the node is. */
export type MetricsServeOptions = HttpServeOptions;

/** A node's /metrics endpoint, listening. */
export type MetricsEndpoint = HttpEndpoint;

/**
 * Serves `registry` in Prometheus's text format at GET /metrics, and nothing
 * else, with the node's certificate and token (see {@link serveHttp}).
 */
export function serveMetrics(registry: Registry, options: MetricsServeOptions): Promise<MetricsEndpoint> {
  return serveHttp(
    "metrics",
    (req, res) => {
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
    },
    options,
  );
}
