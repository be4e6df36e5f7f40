import type { NodeRecord } from "../src/node-record.js";

/** A node as a resolver reports it: where to dial it and, from a registry, what it said of itself. */
export interface ResolvedNode {
  target: string;
  record?: NodeRecord;
}

/**
 * Where a pool's nodes come from: a static list, every address of a DNS
 * name, or the nodes registered in etcd. A resolver reports the whole list
 * each time it changes; the pool adds and retires nodes to match. A failure
 * to resolve keeps the last list (nodes serve whether the registry answers
 * or not) and is reported for error messages.
 */
export interface Resolver {
  /** What it resolves, for messages: "etcd://10.0.0.2:2379 where zone=a". */
  readonly description: string;
  /** Starts following; `update` gets every new list, `error` each failure to get one. */
  start(update: (nodes: ResolvedNode[]) => void, error: (err: Error) => void): void;
  close(): void;
}

/** A fixed list of addresses. */
export class StaticResolver implements Resolver {
  readonly description: string;
  readonly #targets: readonly string[];

  constructor(targets: readonly string[]) {
    this.#targets = targets;
    this.description = targets.join(", ");
  }

  start(update: (nodes: ResolvedNode[]) => void): void {
    update(this.#targets.map((target) => ({ target })));
  }

  close(): void {}
}
