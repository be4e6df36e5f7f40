import { type ExposedMethod, exposedMethods } from "./exposure.js";

// One registry per process (or thread), whichever copy of ferry a user's
// module imports byReference() from.
const MARKED = Symbol.for("ferry.byReference");
const slot = globalThis as { [MARKED]?: WeakMap<object, Map<string, ExposedMethod>> };
slot[MARKED] ??= new WeakMap();
const marked = slot[MARKED];

/**
 * Marks an object to travel by reference when a method returns it (or passes
 * it to a callback): the caller gets a proxy whose calls reach this very
 * object, limited to `methods`. Instances of exposed classes travel by
 * reference without it. The reference lives until the caller releases its
 * proxy or the session ends.
 *
 * ```ts
 * open(path: string) { return byReference(new FileHandle(path), ["read", "close"]); }
 * ```
 */
export function byReference<T extends object>(object: T, methods: readonly string[]): T {
  marked.set(object, exposedMethods(object.constructor?.name ?? "object", object, { methods }));
  return object;
}

/** The methods a marked object allows, or undefined when it is not marked. */
export function referenceMethods(object: object): Map<string, ExposedMethod> | undefined {
  return marked.get(object);
}
