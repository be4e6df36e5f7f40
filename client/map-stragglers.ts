import type { Chunk, MapFlight } from "./map-flight.js";
import type { MapLanes } from "./map-lanes.js";
import type { PoolMember } from "./pool-member.js";

/** Least time a call runs before a copy of it may race on an idle node. */
const SPECULATE_AFTER_MS = 20;

/**
 * At a map's tail, races a copy of each straggler on a node with room, for
 * as long as there is one of each: `race(idle, straggler)` sends the copy.
 * Work queued behind a busy node's slots goes first (its copy gains the
 * whole wait), newest first since it is the furthest back; then the oldest
 * call that has run past twice the usual time, `averageMs` (a slow or stuck
 * node). A chunk races one copy at most. Only for methods safe to run twice.
 */
export function raceStragglers(
  flight: MapFlight,
  lanes: MapLanes,
  averageMs: number,
  race: (idle: PoolMember, straggler: Chunk) => void,
): void {
  if (flight.chunks.size === 0) return;
  const after = Math.max(SPECULATE_AFTER_MS, 2 * averageMs);
  for (;;) {
    const idle = lanes.idle();
    if (!idle) return;
    const now = performance.now();
    let queued: Chunk | undefined;
    let oldest: Chunk | undefined;
    for (const chunk of flight.chunks) {
      if (chunk.twin || chunk.member === idle || now - chunk.sentAt < SPECULATE_AFTER_MS) continue;
      if (lanes.queued(chunk.member)) {
        if (!queued || chunk.sentAt > queued.sentAt) queued = chunk;
      } else if (now - chunk.sentAt >= after && (!oldest || chunk.sentAt < oldest.sentAt)) {
        oldest = chunk;
      }
    }
    const straggler = queued ?? oldest;
    if (!straggler) return;
    race(idle, straggler);
  }
}
