/** What one node has done for a running map. */
export interface MapNodeStats {
  target: string;
  /** Items it answered (a value or an item's own error). */
  done: number;
  /** Of those, the ones that failed. */
  failed: number;
  /** Items in calls on it now, straggler copies included. */
  inFlight: number;
}

/** A running map, as `pool.maps()` reports it. */
export interface MapStats {
  /** `object.method` the map calls. */
  method: string;
  /** Items in the input, when it is an array. */
  total: number | undefined;
  /** Items completed (a value or an error), on every node. */
  done: number;
  failed: number;
  /** Items read and waiting to be sent, or sent again. */
  queued: number;
  /** Items in calls on the nodes now. */
  inFlight: number;
  /** Items sent again after a node failed, refused or was too busy for them. */
  retries: number;
  /** Straggler copies raced on idle nodes at the map's tail. */
  speculative: number;
  nodes: MapNodeStats[];
  /** Seconds since the map started. */
  seconds: number;
}

/** The counts of one map run, as its parts report them. */
export class MapTally {
  retries = 0;
  speculative = 0;
  readonly #byNode = new Map<string, { done: number; failed: number }>();

  /** An item completed, answered by `node` ("" when it failed before any node had it). */
  completed(node: string, ok: boolean): void {
    let counts = this.#byNode.get(node);
    if (!counts) {
      counts = { done: 0, failed: 0 };
      this.#byNode.set(node, counts);
    }
    counts.done++;
    if (!ok) counts.failed++;
  }

  /** Each node's items done and failed so far. */
  get byNode(): ReadonlyMap<string, { done: number; failed: number }> {
    return this.#byNode;
  }
}
