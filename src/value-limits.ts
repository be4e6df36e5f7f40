/**
 * Receive limits of the Value codec. Each guards a node (or a client) against
 * a peer that sends more than it can afford to take apart.
 */
export const VALUE_LIMITS = {
  /**
   * Nesting of lists and maps: deeper values would exhaust a decoder's stack.
   * Kept well below the protobuf decoder's own limit of 100 nested messages
   * (each level of a Value is two), so a too-deep argument fails its own call
   * with a clear message instead of breaking the whole session frame.
   */
  maxDepth: 32,
  /** Lists' items and maps' entries in one value, all levels together: bounds the work of one decode. */
  maxItems: 1_000_000,
  /** Length of one string or bytes value, in bytes (the message size limit also applies). */
  maxBytes: 4 * 1024 * 1024,
  /** Arguments of one call. */
  maxArgs: 256,
} as const;

/** The shape of {@link VALUE_LIMITS}, for callers that set their own. */
export interface ValueLimits {
  maxDepth: number;
  maxItems: number;
  maxBytes: number;
  maxArgs: number;
}
