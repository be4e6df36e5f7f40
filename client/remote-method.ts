import { isObjectName } from "../src/object-name.js";

const METHOD_REF = Symbol.for("ferry.methodRef");

/**
 * A method of an exposed object, named for a pool (`pool.map(ref, items)`)
 * and typed from the object's own code. Made by {@link remote}.
 */
export interface MethodRef<A extends readonly unknown[] = readonly unknown[], R = unknown> {
  readonly object: string;
  readonly method: string;
  /** Never set: carries the method's argument and result types. */
  readonly signature?: (...args: A) => R;
}

/** What a remote method's call yields: a stream's items as a list, or the awaited value. */
export type RemoteResult<R> =
  R extends AsyncIterable<infer Y> ? Y[] : R extends Iterator<infer Y> ? Y[] : Awaited<R>;

/** The instances' type of a class, or the type itself for an object. */
type InstanceOf<T> = T extends abstract new (...args: never[]) => infer I ? I : T;

/** The methods of an exposed object (or of a class's instances), each as a {@link MethodRef}. */
export type RemoteMethods<T> = {
  readonly [K in keyof InstanceOf<T> as InstanceOf<T>[K] extends (...args: never[]) => unknown
    ? K
    : never]: InstanceOf<T>[K] extends (...args: infer A) => infer R ? MethodRef<A, RemoteResult<R>> : never;
};

/**
 * The methods of the object a node exposes as `name`, typed from its code:
 *
 * ```ts
 * import type * as Scoring from "./scoring.js";
 * const scoring = remote<typeof Scoring.scoring>("scoring");
 * const scores = await pool.map(scoring.score, items);      // number[]
 * ```
 *
 * `T` is the object's type, or a class (its instances' methods). Only the
 * name travels: the node checks the method exists when the map starts.
 */
export function remote<T>(name: string): RemoteMethods<T> {
  if (!isObjectName(name)) {
    throw new TypeError(
      `remote: object names are letters, digits, "_", "-" and ".", got ${JSON.stringify(name)}`,
    );
  }
  const refs = new Map<string, MethodRef>();
  return new Proxy(Object.create(null) as RemoteMethods<T>, {
    get(_, method) {
      // Neither a promise nor anything with a prototype.
      if (typeof method !== "string" || method === "then") return undefined;
      let ref = refs.get(method);
      if (!ref) {
        ref = Object.freeze({ object: name, method, [METHOD_REF]: true });
        refs.set(method, ref);
      }
      return ref;
    },
    set() {
      throw new TypeError(`remote("${name}") is read-only`);
    },
    deleteProperty() {
      throw new TypeError(`remote("${name}") is read-only`);
    },
  });
}

/** Whether `value` was made by {@link remote}. */
export function isMethodRef(value: unknown): value is MethodRef {
  return typeof value === "object" && value !== null && METHOD_REF in value;
}
