import { Code } from "../src/code.js";
import { PoolMember } from "./pool-member.js";
import { RemoteError } from "./remote-error.js";
import type { ResolvedNode, Resolver } from "./resolver.js";
import { INSECURE, type Security } from "./security.js";

/**
 * A pool's nodes as its resolvers report them: the union of their lists, one
 * PoolMember per address. A node that appears is dialed and joins when it
 * answers Node.Info; one that disappears (its lease expired, its DNS record
 * went) is retired: its session closes, so the calls it held are sent to the
 * others at once.
 */
export class Membership {
  readonly #resolvers: readonly Resolver[];
  readonly #lists = new Map<Resolver, readonly ResolvedNode[]>();
  readonly #errors = new Map<Resolver, Error>();
  readonly #byTarget = new Map<string, PoolMember>();
  readonly #timeoutMs: number;
  readonly #onChange: () => void;
  readonly #security: Security;
  #members: readonly PoolMember[] = [];
  #closed = false;
  /** Settles once every resolver has answered, or failed, once. */
  readonly resolved: Promise<void>;
  #settle: () => void = () => {};

  constructor(
    resolvers: readonly Resolver[],
    timeoutMs: number,
    onChange: () => void,
    security: Security = INSECURE,
  ) {
    this.#resolvers = resolvers;
    this.#security = security;
    this.#timeoutMs = timeoutMs;
    this.#onChange = onChange;
    this.resolved = new Promise((resolve) => {
      this.#settle = resolve;
    });
    for (const resolver of resolvers) {
      resolver.start(
        (nodes) => this.#update(resolver, nodes),
        (err) => this.#failed(resolver, err),
      );
    }
  }

  /** The nodes now. A new array each time membership changes. */
  get members(): readonly PoolMember[] {
    return this.#members;
  }

  /** The tags a registry lists for a node (none for a node given by address). */
  tagsOf(target: string): Record<string, string> | undefined {
    for (const list of this.#lists.values()) {
      for (const node of list) if (node.target === target && node.record) return node.record.tags;
    }
    return undefined;
  }

  /** Why some source of nodes is not answering now (a registry unreachable): its last list stands. */
  problems(): string[] {
    return [...this.#errors.values()].map((err) => err.message);
  }

  /** Some resolver has not answered yet: no node list to judge by. */
  get resolving(): boolean {
    return this.#resolvers.some((r) => !this.#lists.has(r) && !this.#errors.has(r));
  }

  /** Why there is no node at all, naming where nodes were looked for. */
  noNodes(): RemoteError {
    const parts = this.#resolvers.map((r) => {
      const err = this.#errors.get(r);
      return err ? err.message : `no nodes from ${r.description}`;
    });
    return new RemoteError(Code.UNAVAILABLE, `no node to send work to: ${parts.join("; ")}`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const resolver of this.#resolvers) resolver.close();
    for (const member of this.#byTarget.values()) member.close();
    this.#settle();
  }

  #update(resolver: Resolver, nodes: readonly ResolvedNode[]): void {
    if (this.#closed) return;
    this.#lists.set(resolver, nodes);
    this.#errors.delete(resolver);
    const wanted = new Set<string>();
    for (const list of this.#lists.values()) for (const node of list) wanted.add(node.target);
    let changed = false;
    for (const target of wanted) {
      if (this.#byTarget.has(target)) continue;
      this.#byTarget.set(target, new PoolMember(target, this.#timeoutMs, this.#onChange, this.#security));
      changed = true;
    }
    for (const [target, member] of this.#byTarget) {
      if (wanted.has(target)) continue;
      this.#byTarget.delete(target);
      member.retire(
        new RemoteError(Code.UNAVAILABLE, `${target} left the pool (no longer in ${resolver.description})`),
      );
      changed = true;
    }
    if (changed) this.#members = [...this.#byTarget.values()];
    if (!this.resolving) this.#settle();
    // Runs waiting for a first list learn of it even when it is empty.
    this.#onChange();
  }

  #failed(resolver: Resolver, err: Error): void {
    if (this.#closed) return;
    // The last list stands: nodes serve whether their registry answers or not.
    this.#errors.set(resolver, err);
    if (!this.resolving) this.#settle();
    this.#onChange();
  }
}
