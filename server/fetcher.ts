import type { Agent } from "undici";
import { Code } from "../src/code.js";
import {
  type FetcherServer,
  FetchFailure as FetchFailureCode,
  type FetchManyRequest,
  type FetchManyResponse,
  type FetchRequest,
  type FetchResponse,
} from "../src/gen/ferry/v1/fetch.js";
import { invalidArgument, ServerError } from "../src/server-error.js";
import { FetchFailure, type FetchFailureKind, type FetchLimits, fetchPage } from "./fetcher/fetch-page.js";
import { type HandlerContext, serverStream, unary } from "./handlers.js";

/** Limits of a node's Fetcher, each named after what it guards. */
export interface FetcherLimits extends FetchLimits {
  /** Largest timeout_ms a caller may ask for. */
  maxTimeoutMs: number;
  /** Most URLs in one FetchMany call. */
  maxUrls: number;
  /** Most fetches one FetchMany call may run at once. */
  maxConcurrency: number;
}

/** FetchMany concurrency when the caller gives 0. */
export const DEFAULT_FETCH_CONCURRENCY = 16;

const FAILURES: Record<FetchFailureKind, { code: Code; failure: FetchFailureCode }> = {
  invalid_url: { code: Code.INVALID_ARGUMENT, failure: FetchFailureCode.FETCH_FAILURE_INVALID_URL },
  unreachable: { code: Code.UNAVAILABLE, failure: FetchFailureCode.FETCH_FAILURE_UNREACHABLE },
  timeout: { code: Code.DEADLINE_EXCEEDED, failure: FetchFailureCode.FETCH_FAILURE_TIMEOUT },
  too_large: { code: Code.RESOURCE_EXHAUSTED, failure: FetchFailureCode.FETCH_FAILURE_TOO_LARGE },
  too_many_redirects: { code: Code.ABORTED, failure: FetchFailureCode.FETCH_FAILURE_TOO_MANY_REDIRECTS },
  protocol: { code: Code.UNAVAILABLE, failure: FetchFailureCode.FETCH_FAILURE_PROTOCOL },
  forbidden: { code: Code.PERMISSION_DENIED, failure: FetchFailureCode.FETCH_FAILURE_FORBIDDEN },
};

function limitsFor(limits: FetcherLimits, timeoutMs: number): FetchLimits {
  if (timeoutMs > limits.maxTimeoutMs) {
    throw invalidArgument(
      "timeoutMs",
      `must be at most ${limits.maxTimeoutMs} (the node's limit), got ${timeoutMs}`,
    );
  }
  return { ...limits, timeoutMs: timeoutMs === 0 ? limits.timeoutMs : timeoutMs };
}

async function fetchOne(
  url: string,
  limits: FetchLimits,
  signal: AbortSignal,
  via: Fetching,
): Promise<FetchResponse> {
  let page: Awaited<ReturnType<typeof fetchPage>>;
  try {
    page = await fetchPage(url, limits, signal, via.agent);
  } catch (err) {
    via.fetched?.(err instanceof FetchFailure ? err.kind : "error");
    throw err;
  }
  via.fetched?.("ok");
  return {
    url,
    status: page.status,
    title: page.title,
    bytes: BigInt(page.bytes),
    contentType: page.contentType,
    elapsedSeconds: page.elapsedSeconds,
    finalUrl: page.finalUrl,
    redirects: page.redirects,
    failure: FetchFailureCode.FETCH_FAILURE_UNSPECIFIED,
    error: "",
  };
}

function failed(url: string, err: FetchFailure, seconds: number): FetchResponse {
  return {
    url,
    status: 0,
    title: "",
    bytes: 0n,
    contentType: "",
    elapsedSeconds: seconds,
    finalUrl: "",
    redirects: 0,
    failure: FAILURES[err.kind].failure,
    error: err.message,
  };
}

/** How a node fetches: through its guarded agent, each outcome counted ("ok", or a failure's kind). */
export interface Fetching {
  agent: Agent;
  fetched?: (outcome: string) => void;
}

/** Fetches one URL (Fetcher.Fetch): a fetch that gives no page fails with its status code. */
export async function fetchUrl(
  req: FetchRequest,
  limits: FetcherLimits,
  signal: AbortSignal,
  via: Fetching,
): Promise<FetchResponse> {
  try {
    return await fetchOne(req.url, limitsFor(limits, req.timeoutMs), signal, via);
  } catch (err) {
    if (err instanceof FetchFailure) {
      const field = err.kind === "invalid_url" ? "url" : undefined;
      const message = err.kind === "invalid_url" ? `url: ${err.message}` : err.message;
      throw new ServerError(FAILURES[err.kind].code, message, { field });
    }
    throw err;
  }
}

/** gRPC handlers of ferry.v1.Fetcher. */
export function fetcherServer(ctx: HandlerContext, limits: FetcherLimits, via: Fetching): FetcherServer {
  return {
    fetch: unary(ctx, "/ferry.v1.Fetcher/Fetch", (req: FetchRequest, signal) =>
      fetchUrl(req, limits, signal, via),
    ),
    fetchMany: serverStream(ctx, "/ferry.v1.Fetcher/FetchMany", (req: FetchManyRequest, signal) =>
      fetchMany(req, limits, signal, via),
    ),
  };
}

/**
 * Fetches the request's URLs, `concurrency` at a time, and yields each result
 * as it completes. A failed URL is a result with `failure` set, not an error of
 * the stream.
 */
export async function* fetchMany(
  req: FetchManyRequest,
  limits: FetcherLimits,
  signal: AbortSignal,
  via: Fetching,
): AsyncGenerator<FetchManyResponse> {
  if (req.urls.length > limits.maxUrls) {
    throw invalidArgument(
      "urls",
      `at most ${limits.maxUrls} URLs per call (the node's limit), got ${req.urls.length}`,
    );
  }
  if (req.concurrency > limits.maxConcurrency) {
    throw invalidArgument(
      "concurrency",
      `must be at most ${limits.maxConcurrency} (the node's limit), got ${req.concurrency}`,
    );
  }
  const fetchLimits = limitsFor(limits, req.timeoutMs);
  const concurrency = req.concurrency === 0 ? DEFAULT_FETCH_CONCURRENCY : req.concurrency;
  const finished: FetchManyResponse[] = [];
  let next = 0;
  let running = 0;
  let failure: unknown;
  let wake = () => {};

  const startOne = () => {
    const index = next++;
    const url = req.urls[index] as string;
    const started = performance.now();
    running++;
    fetchOne(url, fetchLimits, signal, via)
      .catch((err: unknown) => {
        if (err instanceof FetchFailure) return failed(url, err, (performance.now() - started) / 1000);
        throw err;
      })
      .then(
        (result) => finished.push({ index, result }),
        (err: unknown) => {
          failure ??= err;
        },
      )
      .finally(() => {
        running--;
        wake();
      });
  };

  for (;;) {
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    while (running < concurrency && next < req.urls.length && failure === undefined && !signal.aborted)
      startOne();
    while (finished.length > 0) yield finished.shift() as FetchManyResponse;
    if (failure !== undefined) throw failure;
    if (running === 0 && next >= req.urls.length) return;
    await changed;
  }
}
