import { Code } from "../src/code.js";
import type { MethodDescription } from "../src/gen/ferry/v1/objects.js";
import type { PoolMember } from "./pool-member.js";
import type { PoolMethod } from "./pool-method.js";
import { RemoteError, toRemoteError } from "./remote-error.js";

/** What a map knows of one node: Describe is on its way, the node refused the method, or its description. */
type Described = "pending" | RemoteError | MethodDescription;

/**
 * What each node of a pool says of the one method a map calls, asked with
 * Describe once per node that is up (again after it comes back). A node
 * that lacks the object or method is remembered as refusing it, and gets
 * none of the map's items. The first description found says whether the
 * method is idempotent and how many calls a node runs at once.
 */
export class MethodDescriptions {
  readonly #method: PoolMethod;
  readonly #timeoutMs: number;
  readonly #answered: () => void;
  readonly #byMember = new Map<PoolMember, Described>();
  #first: MethodDescription | undefined;
  #warm = false;

  /** `answered` runs after each Describe settles, whatever its answer. */
  constructor(method: PoolMethod, timeoutMs: number, answered: () => void) {
    this.#method = method;
    this.#timeoutMs = timeoutMs;
    this.#answered = answered;
  }

  /** The method as the first node to describe it did; undefined before any has. */
  get description(): MethodDescription | undefined {
    return this.#first;
  }

  /**
   * Whether the map may start: every node has answered Node.Info (or failed
   * to) and described the method, so the first node to answer does not take
   * a whole burst of work that the others could share. Asks every node up
   * that has not been asked; true from the first time it is.
   */
  warmedUp(members: readonly PoolMember[], resolving: boolean): boolean {
    if (this.#warm) return true;
    let settled = !resolving;
    for (const member of members) {
      if (member.state === "connecting") settled = false;
      else if (member.state === "up") {
        const described = this.#byMember.get(member);
        if (described === undefined) this.#ask(member);
        if (described === undefined || described === "pending") settled = false;
      }
    }
    this.#warm = settled;
    return settled;
  }

  /**
   * The method as `member` describes it, once it has; undefined while its
   * answer is awaited (asking it first, if it has not been) or when it
   * refused the method.
   */
  usable(member: PoolMember): MethodDescription | undefined {
    const described = this.#byMember.get(member);
    if (described === undefined) {
      this.#ask(member);
      return undefined;
    }
    if (described === "pending" || described instanceof RemoteError) return undefined;
    return described;
  }

  /** `member` answered a call of the method with NOT_FOUND or UNIMPLEMENTED: it gets no more. */
  refuse(member: PoolMember, error: RemoteError): void {
    this.#byMember.set(member, new RemoteError(error.code, `${member.target}: ${error.details}`));
  }

  /** Why `member` takes none of the map's items, if it refused the method. */
  refusal(member: PoolMember): RemoteError | undefined {
    const described = this.#byMember.get(member);
    return described instanceof RemoteError ? described : undefined;
  }

  #ask(member: PoolMember): void {
    this.#byMember.set(member, "pending");
    const { object, method } = this.#method;
    member
      .session()
      .describe(object, this.#timeoutMs)
      .then(
        (methods) => {
          const found = methods.find((m) => m.name === method);
          if (!found) {
            const names = methods.map((m) => m.name).join(", ");
            this.#byMember.set(
              member,
              new RemoteError(
                Code.UNIMPLEMENTED,
                `${object}.${method} is not exposed on ${member.target}; methods: ${names}`,
              ),
            );
          } else {
            this.#first ??= found;
            this.#byMember.set(member, found);
          }
        },
        (err: unknown) => {
          const error = toRemoteError(err);
          if (error.code === Code.NOT_FOUND || error.code === Code.UNIMPLEMENTED) this.refuse(member, error);
          else {
            // Asked again once the node is back.
            this.#byMember.delete(member);
            member.markDown(
              new RemoteError(error.code, `${member.target}: ${error.details}`, { cause: err }),
            );
          }
        },
      )
      .finally(() => this.#answered());
  }
}
