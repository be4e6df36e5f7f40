import { Code } from "../src/code.js";

/** What a pool does with a chunk whose call failed as a whole. */
export type ChunkFailureAction =
  /** The node failed (or was taken out for hanging): mark it down, send the items elsewhere. */
  | "node down"
  /** The node is overloaded: back off from it for a moment, send the item elsewhere. */
  | "back off"
  /** The node lacks the object or method: remember it, send the items to nodes that have it. */
  | "not here"
  /** Something in the chunk was refused as a whole: send each item alone, so only the culprit fails. */
  | "one by one"
  /** The items themselves failed: each takes the error. */
  | "fail items";

/** What is known of the failed chunk when deciding. */
export interface ChunkFailure {
  /** The gRPC code the chunk failed with. */
  code: Code;
  /** Whether the node that ran it is still up. */
  nodeUp: boolean;
  /** Items in the chunk. */
  items: number;
  /** Whether its one item was already sent alone after a whole-chunk refusal. */
  solo: boolean;
}

/**
 * The pool's failure policy for a chunk, as a pure decision: the node's
 * state and the code decide it, never the items' contents.
 */
export function decideChunkFailure(failure: ChunkFailure): ChunkFailureAction {
  const { code, nodeUp, items, solo } = failure;
  if (!nodeUp || code === Code.UNAVAILABLE) return "node down";
  if (code === Code.RESOURCE_EXHAUSTED && items === 1 && !solo) return "back off";
  if (code === Code.NOT_FOUND || code === Code.UNIMPLEMENTED) return "not here";
  if (code !== Code.DEADLINE_EXCEEDED && items > 1) return "one by one";
  return "fail items";
}
