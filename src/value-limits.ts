/**
 * Receive limits of the Value codec. Each guards a node (or a client) against
 * a peer that sends more than it can afford to take apart.
 */
export const VALUE_LIMITS = {
  /**
   * Nesting of lists and maps: deeper values would exhaust a decoder's stack.
   * The protobuf decoder stops at 100 nested messages and then refuses the
   * whole message (a session frame and every call in it); a map level is
   * three messages (Value, MapValue, MapEntry) and a frame adds up to four.
   * At 30, any value the codec would refuse still decodes, so a too-deep
   * argument fails its own call with a clear message; values nested past
   * about 32 levels of maps cannot be decoded at all and are refused with
   * the frame that carries them.
   */
  maxDepth: 30,
  /** Lists' items and maps' entries in one value, all levels together: bounds the work of one decode. */
  maxItems: 1_000_000,
  /** Size of one string (in UTF-8 bytes, as it travels) or bytes value (the message size limit also applies). */
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
