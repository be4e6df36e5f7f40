/**
 * When a map fails as a whole rather than item by item: a node went silent
 * because the map's own method held its event loop (it will do it again, so
 * the map fails with the cause instead of sending the work elsewhere), or no
 * node is left that can take the work. Decisions over the pool's nodes as
 * they stand; what one failed chunk does is decideChunkFailure's.
 */
import { Code } from "../src/code.js";
import type { PoolMember } from "./pool-member.js";
import type { PoolMethod } from "./pool-method.js";
import { RemoteError } from "./remote-error.js";

/** What these decisions read of a pool member. */
export type MemberView = Pick<PoolMember, "target" | "heldBy" | "state" | "confirmedDown" | "error">;

/** The map's error when a node stopped answering because `method` held its event loop since `since`. */
export function heldLoopFailure(
  members: readonly MemberView[],
  method: Pick<PoolMethod, "object" | "method">,
  since: number,
): RemoteError | undefined {
  const label = `${method.object}.${method.method}`;
  const held = members.find((m) => m.heldBy?.method === label && m.heldBy.at >= since);
  if (!held) return undefined;
  return new RemoteError(
    Code.FAILED_PRECONDITION,
    `${held.target} stopped answering because ${label} held its event loop for ${Math.round(held.heldBy?.ms ?? 0)} ms (it runs on the node's main thread); expose ${method.object} with run: "workers" to run it in worker threads`,
  );
}

/** The pool's nodes, as a map sees them. */
export interface MapNodes {
  readonly members: readonly MemberView[];
  /** The node list is not known yet. */
  readonly resolving: boolean;
  /** The error for a map with no node at all. */
  noNodes(): RemoteError;
}

/**
 * The map's error when no node can take its work: there is none (once the
 * list is known), or each refused the method, runs an incompatible build or
 * is down for sure. Undefined while one may yet (it is up, connecting, or
 * only slow to answer).
 */
export function noNodeCanTakeWork(
  nodes: MapNodes,
  descriptions: { refusal(member: MemberView): RemoteError | undefined },
): RemoteError | undefined {
  const members = nodes.members;
  if (members.length === 0) return nodes.resolving ? undefined : nodes.noNodes();
  let waiting = false;
  const reasons: RemoteError[] = [];
  for (const member of members) {
    const refused = descriptions.refusal(member);
    if (refused) reasons.push(refused);
    else if (member.state === "incompatible") reasons.push(member.error as RemoteError);
    else if (member.state === "down" && member.confirmedDown) reasons.push(member.error as RemoteError);
    else waiting = true;
  }
  if (waiting || reasons.length === 0) return undefined;
  const unavailable = reasons.filter((r) => r.code === Code.UNAVAILABLE);
  if (unavailable.length === 0) {
    return reasons.find((r) => r.code === Code.FAILED_PRECONDITION) ?? (reasons[0] as RemoteError);
  }
  const list = reasons.map((r) => r.details).join("; ");
  return new RemoteError(Code.UNAVAILABLE, `no node can take work: ${list}`);
}
