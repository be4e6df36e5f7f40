import { isIP } from "node:net";
import { TextDecoder } from "node:util";
import { Agent, type Dispatcher, errors } from "undici";
import { AddressGuard } from "./address-guard.js";
import { extractTitle, hasTitleEnd } from "./html-title.js";

/** Limits of one fetch, each named after what it guards against. */
export interface FetchLimits {
  /** Whole fetch, redirects and body included: a slow or stalled server cannot hold a call. */
  timeoutMs: number;
  /** Body bytes read before giving up: a huge or endless body cannot fill the node's memory. */
  maxBodyBytes: number;
  /** Redirect hops followed: a redirect loop cannot keep a fetch going. */
  maxRedirects: number;
}

/** Defaults of a node's fetches. */
export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  timeoutMs: 10_000,
  maxBodyBytes: 5 * 1024 * 1024,
  maxRedirects: 5,
};

/** Why a fetch gave no page. */
export type FetchFailureKind =
  | "invalid_url"
  | "unreachable"
  | "timeout"
  | "too_large"
  | "too_many_redirects"
  | "protocol"
  | "forbidden";

/** A fetch that gave no page; `kind` says why, the message names the limit or the cause. */
export class FetchFailure extends Error {
  override name = "FetchFailure";
  readonly kind: FetchFailureKind;

  constructor(kind: FetchFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** What a fetched page gave. */
export interface PageResult {
  url: string;
  finalUrl: string;
  status: number;
  title: string;
  bytes: number;
  contentType: string;
  redirects: number;
  elapsedSeconds: number;
}

/** How much of a body is searched for the title; the rest is counted, not kept. */
export const TITLE_SCAN_BYTES = 256 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Parses an absolute http(s) URL without credentials, or throws FetchFailure("invalid_url"). */
export function validateUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FetchFailure(
      "invalid_url",
      `must be an absolute http:// or https:// URL, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new FetchFailure(
      "invalid_url",
      `only http:// and https:// URLs are fetched, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new FetchFailure("invalid_url", "URLs with credentials are refused");
  }
  if (parsed.hostname === "")
    throw new FetchFailure("invalid_url", `URL has no host: ${JSON.stringify(url)}`);
  return parsed;
}

/** The guard of each agent made by {@link createFetchAgent}: URLs naming an IP are checked before dialing. */
const guards = new WeakMap<Agent, AddressGuard>();

/**
 * A connection pool for fetches that dials only addresses `guard` allows
 * (by default: public ones); close it with `agent.close()` when the node stops.
 */
export function createFetchAgent(guard: AddressGuard = new AddressGuard()): Agent {
  const agent = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: 10_000, lookup: guard.lookup } });
  guards.set(agent, guard);
  return agent;
}

/**
 * Fetches `url` and reads its title, following redirects within the limits.
 * An HTTP error status (404, 500) is a result; a fetch that gives no page
 * throws FetchFailure. Aborting `signal` stops at once and throws its reason.
 */
export async function fetchPage(
  url: string,
  limits: FetchLimits,
  signal: AbortSignal,
  agent: Agent,
): Promise<PageResult> {
  const started = performance.now();
  const target = validateUrl(url);
  // The caller's abort and the time limit both stop the request in flight
  // (and any redirect after it); never after the fetch is over.
  const stop: Stop = { reason: undefined, controller: undefined };
  const halt = (reason: Error) => {
    if (stop.reason) return;
    stop.reason = reason;
    stop.controller?.abort(reason);
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    halt(new Error("time limit"));
  }, limits.timeoutMs);
  const onAbort = () => halt(new Error("aborted"));
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal.aborted) onAbort();
    return await follow(url, target, limits, stop, agent, started);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (timedOut)
      throw new FetchFailure("timeout", `fetch took longer than its time limit of ${limits.timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/** How a fetch is stopped: why, once it is, and the request in flight to abort. */
interface Stop {
  reason: Error | undefined;
  controller: Dispatcher.DispatchController | undefined;
}

async function follow(
  url: string,
  start: URL,
  limits: FetchLimits,
  stop: Stop,
  agent: Agent,
  started: number,
): Promise<PageResult> {
  let current = start;
  for (let redirects = 0; ; redirects++) {
    const response = await fetchOnce(current, limits.maxBodyBytes, stop, agent);
    const location = headerText(response.headers.location);
    if (REDIRECTS.has(response.status) && location !== "") {
      if (redirects >= limits.maxRedirects) {
        throw new FetchFailure(
          "too_many_redirects",
          `more than maxRedirects (${limits.maxRedirects}) redirects`,
        );
      }
      try {
        current = validateUrl(new URL(location, current).href);
      } catch (err) {
        throw new FetchFailure("protocol", `redirect to an unusable URL: ${(err as Error).message}`);
      }
      continue;
    }
    const contentType = headerText(response.headers["content-type"]);
    const html = /^\s*$|text\/html|application\/xhtml\+xml/i.test(contentType);
    return {
      url,
      finalUrl: current.href,
      status: response.status,
      title: html ? extractTitle(decode(response.head, contentType)) : "",
      bytes: response.bytes,
      contentType,
      redirects,
      elapsedSeconds: (performance.now() - started) / 1000,
    };
  }
}

/** One response: status, headers, the start of its body (where the title is) and its length. */
interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  head: Buffer;
  bytes: number;
}

/**
 * One GET through the agent's dispatcher, read as it arrives: the body is
 * counted against `maxBytes` and scanned for the title, with no stream or
 * body object per request (the cheapest way through undici, which matters
 * at thousands of fetches a second). A redirect's body is not read.
 */
function fetchOnce(target: URL, maxBytes: number, stop: Stop, agent: Agent): Promise<Response> {
  // A name is checked when it is resolved (the agent's lookup); an address here.
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const refused = isIP(host) ? guards.get(agent)?.refusal(host) : undefined;
  if (refused)
    return Promise.reject(new FetchFailure("forbidden", `refusing to fetch ${target.href}: ${refused}`));
  return new Promise((resolve, reject) => {
    const head: Buffer[] = [];
    let headBytes = 0;
    let bytes = 0;
    let titleDone = false;
    let tail = "";
    let status = 0;
    let headers: Response["headers"] = {};
    let settled = false;
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      stop.controller = undefined;
      if (error) reject(error);
      else resolve({ status, headers, head: Buffer.concat(head), bytes });
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        if (stop.reason) c.abort(stop.reason);
        else stop.controller = c;
      },
      onResponseStart(c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
        if (REDIRECTS.has(statusCode) && responseHeaders.location !== undefined) {
          // Nothing of a redirect's body is wanted.
          finish(undefined);
          c.abort(new Error("redirected"));
        }
      },
      onResponseData(c, chunk) {
        if (settled) return;
        bytes += chunk.length;
        if (bytes > maxBytes) {
          finish(new FetchFailure("too_large", `body exceeds maxBodyBytes (${maxBytes} bytes)`));
          c.abort(new Error("too large"));
          return;
        }
        if (!titleDone && headBytes < TITLE_SCAN_BYTES) {
          head.push(chunk);
          headBytes += chunk.length;
          // Overlap with the previous chunk, so a "</title>" split between chunks is seen.
          const text = tail + chunk.toString("latin1");
          titleDone = hasTitleEnd(text);
          tail = text.slice(-16);
        }
      },
      onResponseEnd() {
        finish(undefined);
      },
      onResponseError(_c, err) {
        if (settled) return;
        const forbidden = forbiddenCause(err);
        if (forbidden) {
          finish(new FetchFailure("forbidden", `refusing to fetch ${target.href}: ${forbidden}`));
          return;
        }
        finish(
          status === 0
            ? new FetchFailure("unreachable", `cannot reach ${target.host}: ${describe(err)}`, { cause: err })
            : new FetchFailure("protocol", `body ended badly: ${describe(err)}`, { cause: err }),
        );
      },
    };
    try {
      agent.dispatch(
        {
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: "GET",
          headers: { "user-agent": "ferry-fetcher", accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
        },
        handler,
      );
    } catch (err) {
      finish(
        new FetchFailure("unreachable", `cannot reach ${target.host}: ${describe(err)}`, { cause: err }),
      );
    }
  });
}

/** The guard's refusal inside a connect error, if that is what it is. */
function forbiddenCause(err: unknown): string | undefined {
  for (
    let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === "EFORBIDDEN") return e.message;
  }
  return undefined;
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/** One decoder per charset seen, kept: making one per page is a measurable share of a fetch. */
const decoders = new Map<string, TextDecoder>();

function decode(bytes: Buffer, contentType: string): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? "utf-8";
  let decoder = decoders.get(charset);
  if (!decoder) {
    try {
      decoder = new TextDecoder(charset);
    } catch {
      // An unknown charset reads as UTF-8; it is not remembered, so pages cannot grow the map.
      decoder = decoders.get("utf-8") ?? new TextDecoder("utf-8");
      return decoder.decode(bytes);
    }
    if (decoders.size < 64) decoders.set(charset, decoder);
  }
  return decoder.decode(bytes);
}

function describe(err: unknown): string {
  if (err instanceof errors.UndiciError) return err.message;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
