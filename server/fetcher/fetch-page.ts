import { Agent, errors, request } from "undici";
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
  | "protocol";

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

/** A connection pool for fetches; close it with `agent.close()` when the node stops. */
export function createFetchAgent(): Agent {
  return new Agent({ keepAliveTimeout: 4_000, connect: { timeout: 10_000 } });
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
  // One controller for the whole fetch, aborted by the caller or the time
  // limit, and never after the fetch is over: an abort that lands on a
  // finished request would surface as an uncaught error on its body.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, limits.timeoutMs);
  const onAbort = () => controller.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await follow(url, target, limits, controller.signal, agent, started);
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

async function follow(
  url: string,
  start: URL,
  limits: FetchLimits,
  signal: AbortSignal,
  agent: Agent,
  started: number,
): Promise<PageResult> {
  let current = start;
  for (let redirects = 0; ; redirects++) {
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(current, {
        method: "GET",
        signal,
        dispatcher: agent,
        headers: { "user-agent": "ferry-fetcher", accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
      });
    } catch (err) {
      throw new FetchFailure("unreachable", `cannot reach ${current.host}: ${describe(err)}`, { cause: err });
    }
    // A body dropped unread may still report an error; it is of no interest then.
    response.body.on("error", () => {});
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode) && typeof location === "string") {
      response.body.destroy();
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
    const body = await readBody(response.body, limits.maxBodyBytes);
    const html = /^\s*$|text\/html|application\/xhtml\+xml/i.test(contentType);
    return {
      url,
      finalUrl: current.href,
      status: response.statusCode,
      title: html ? extractTitle(decode(body.head, contentType)) : "",
      bytes: body.bytes,
      contentType,
      redirects,
      elapsedSeconds: (performance.now() - started) / 1000,
    };
  }
}

async function readBody(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<{ head: Buffer; bytes: number }> {
  const head: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  let titleDone = false;
  let tail = "";
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        body.destroy();
        throw new FetchFailure("too_large", `body exceeds maxBodyBytes (${maxBytes} bytes)`);
      }
      if (!titleDone && headBytes < TITLE_SCAN_BYTES) {
        head.push(chunk);
        headBytes += chunk.length;
        // Overlap with the previous chunk, so a "</title>" split between chunks is seen.
        const text = tail + chunk.toString("latin1");
        titleDone = hasTitleEnd(text);
        tail = text.slice(-16);
      }
    }
  } catch (err) {
    if (err instanceof FetchFailure) throw err;
    throw new FetchFailure("protocol", `body ended badly: ${describe(err)}`, { cause: err });
  }
  return { head: Buffer.concat(head), bytes };
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

function decode(bytes: Buffer, contentType: string): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase();
  try {
    return new TextDecoder(charset ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.UndiciError) return err.message;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
