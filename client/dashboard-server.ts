import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken, type HttpEndpoint, type HttpServeOptions, serveHttp } from "../src/http-endpoint.js";
import type { ClusterSnapshot } from "./cluster-watch.js";

/** Where the dashboard listens and how often it samples the cluster. */
export interface DashboardOptions extends HttpServeOptions {
  /** Time between samples, and the window of the rates (default 1000 ms). */
  intervalMs?: number;
  /** What the page's heading names: the registry or node list watched. */
  title?: string;
}

/** The dashboard, serving. */
export type Dashboard = HttpEndpoint;

/** Samples kept for a page that opens late, so its charts start full: a minute at 1 s. */
const HISTORY = 60;

/** The cookie a browser keeps the token in, once it has opened `/?token=…`. */
const COOKIE = "ferry-dashboard-token";

/** The page's files, served from the package (no CDN, no build step). */
const ASSETS: Record<string, string> = {
  "/": "index.html",
  "/dashboard.js": "dashboard.js",
  "/dashboard.css": "dashboard.css",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

const HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = new URL(
    import.meta.url.includes("/dist/") ? "../../dashboard/" : "../dashboard/",
    import.meta.url,
  );
  const loaded = new Map<string, { type: string; body: Buffer }>();
  for (const [path, file] of Object.entries(ASSETS)) {
    const ext = file.split(".").pop() as string;
    loaded.set(path, { type: TYPES[ext] as string, body: readFileSync(new URL(file, dir)) });
  }
  return loaded;
}

/** The token a request carries: a Bearer header, `?token=` in its URL, or the cookie set from it. */
function tokenOf(req: IncomingMessage): string | undefined {
  const bearer = bearerToken(req);
  if (bearer !== undefined) return bearer;
  const query = new URL(req.url ?? "/", "http://x").searchParams.get("token");
  if (query !== null) return query;
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/** Snapshots as JSON: a p99 past the last bucket (Infinity) goes as null. */
const json = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (v === Number.POSITIVE_INFINITY ? null : v));

/**
 * Serves the live cluster page: `/` and its script and style, `/snapshot`
 * (the latest sample as JSON) and `/events` (server-sent events: the recent
 * samples at once, then one per interval). One sampling loop feeds every
 * open page, so ten browsers cost the nodes what one does.
 */
export async function serveDashboard(
  watch: { sample(): Promise<ClusterSnapshot> },
  options: DashboardOptions,
): Promise<Dashboard> {
  const intervalMs = options.intervalMs ?? 1_000;
  const assets = loadAssets();
  const history: string[] = [];
  const streams = new Set<ServerResponse>();
  let latest: string | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res
        .writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" })
        .end("the dashboard is read-only\n");
      return;
    }
    const token = url.searchParams.get("token");
    if (token !== null) {
      // Keep the token out of the address bar and history: a cookie carries it from here on.
      res
        .writeHead(303, {
          location: url.pathname,
          "set-cookie": `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        })
        .end();
      return;
    }
    const asset = assets.get(url.pathname);
    if (asset) {
      res
        .writeHead(200, { ...HEADERS, "content-type": asset.type })
        .end(req.method === "HEAD" ? "" : asset.body);
      return;
    }
    if (url.pathname === "/snapshot") {
      res
        .writeHead(latest ? 200 : 503, { ...HEADERS, "content-type": "application/json" })
        .end(latest ?? json({ error: "no sample yet" }));
      return;
    }
    if (url.pathname === "/events") {
      res.writeHead(200, { ...HEADERS, "content-type": "text/event-stream", connection: "keep-alive" });
      res.write(`retry: ${intervalMs}\nevent: history\ndata: [${history.join(",")}]\n\n`);
      streams.add(res);
      res.on("close", () => streams.delete(res));
      return;
    }
    res
      .writeHead(404, { "content-type": "text/plain" })
      .end("the dashboard serves /, /snapshot and /events\n");
  };

  const endpoint = await serveHttp("the dashboard", handler, options, tokenOf);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const sample = async () => {
    let text: string;
    try {
      text = json({ ...(await watch.sample()), title: options.title ?? "" });
    } catch (err) {
      text = json({ at: Date.now(), nodes: [], methods: [], maps: [], problems: [String(err)] });
    }
    if (closed) return;
    latest = text;
    history.push(text);
    if (history.length > HISTORY) history.shift();
    for (const res of streams) res.write(`event: snapshot\ndata: ${text}\n\n`);
    timer = setTimeout(sample, intervalMs);
  };
  await sample();
  return {
    address: endpoint.address,
    url: endpoint.url,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      for (const res of streams) res.end();
      await endpoint.close();
    },
  };
}
