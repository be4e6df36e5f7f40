import type { RemoteError } from "./remote-error.js";

/** Options of a pool's map, imap, imapUnordered, starmap and submit. */
export interface MapOptions {
  /** Deadline of each item, in milliseconds. Default: the pool's. */
  timeoutMs?: number;
  /**
   * Aborting it cancels every call in flight, on every node, and ends the map
   * with a RemoteError: CANCELLED (DEADLINE_EXCEEDED for `AbortSignal.timeout`),
   * the signal's reason as its cause.
   */
  signal?: AbortSignal;
  /** Items per call; default automatic (1 for heavy items, up to 2048 for tiny ones). */
  chunkSize?: number;
  /** Times an item is sent again after its node failed. Default 3. */
  retries?: number;
  /** "throw" (default): the first failed item fails the map. "return": its RemoteError takes its place. */
  errors?: "throw" | "return";
  /** Most items in flight across the pool; default: each node's slots (or the method's concurrency) plus one call. */
  concurrency?: number;
  /** Treat the method as idempotent (or not), whatever the node declares. */
  idempotent?: boolean;
}

/** Times an item is sent again after its node failed, when a map does not say. */
export const DEFAULT_RETRIES = 3;

/**
 * A map's deadline per item and its retries, with the pool's deadline as the
 * default; throws a RangeError naming the first option out of range.
 */
export function checkMapOptions(
  options: MapOptions,
  defaultTimeoutMs: number,
): { timeoutMs: number; retries: number } {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`retries must be a non-negative integer, got ${options.retries}`);
  }
  const concurrency = options.concurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (options.errors !== undefined && options.errors !== "throw" && options.errors !== "return") {
    throw new RangeError(`errors must be "throw" or "return", got ${JSON.stringify(options.errors)}`);
  }
  return { timeoutMs, retries };
}

/** Items a pool maps over: an array, any iterable, or an async iterable, read lazily. */
export type PoolInput<T> = Iterable<T> | AsyncIterable<T>;

/** One item's end: its position in the input, the node that answered, and its value or error. */
export type Completion<T = unknown> =
  | { index: number; node: string; ok: true; value: T }
  | { index: number; node: string; ok: false; error: RemoteError };
