import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";

/** Which instance of an exposed class serves a call (Pyro's instance modes). */
export type InstanceMode = "single" | "session" | "percall";

/** Options of {@link ObjectHost.expose}. */
export interface ExposeOptions {
  /**
   * The methods callers may call. Required: nothing is exposed by default, so
   * a method TypeScript calls `private` can never be reached by accident.
   */
  methods: readonly string[];
  /** For classes: one instance for all ("single"), one per client session ("session", the default), or one per call ("percall"). */
  instance?: InstanceMode;
  /** Methods callers do not wait for: no result, errors only logged. */
  oneway?: readonly string[];
}

/** One exposed method, as the host dispatches it. */
export interface ExposedMethod {
  name: string;
  /** An async generator (or generator): its values travel as a stream. */
  stream: boolean;
  oneway: boolean;
}

/** Names that can never be called, whatever a registration says. */
const FORBIDDEN = new Set([
  "constructor",
  "__proto__",
  "prototype",
  "then",
  "toString",
  "toLocaleString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);

/** Why `name` cannot be exposed or called, or undefined when it can. */
export function forbiddenReason(name: string): string | undefined {
  if (typeof name !== "string" || name === "") return "method names are non-empty strings";
  if (name.startsWith("_")) return `${name} starts with "_": private by convention`;
  if (FORBIDDEN.has(name)) return `${name} is a member of every object, never callable`;
  if (!/^[A-Za-z$][\w$]*$/.test(name)) return `${JSON.stringify(name)} is not a method name`;
  return undefined;
}

const GENERATORS = new Set(["AsyncGeneratorFunction", "GeneratorFunction"]);

/**
 * Checks a registration against the object (or a class's prototype): every
 * listed method must exist, be a function, and have an allowed name.
 */
export function exposedMethods(
  name: string,
  target: object,
  options: ExposeOptions,
): Map<string, ExposedMethod> {
  if (!Array.isArray(options?.methods) || options.methods.length === 0) {
    throw new TypeError(`expose("${name}"): list the callable methods in options.methods`);
  }
  const oneway = new Set(options.oneway ?? []);
  const methods = new Map<string, ExposedMethod>();
  for (const method of options.methods) {
    const reason = forbiddenReason(method);
    if (reason) throw new TypeError(`expose("${name}"): ${reason}`);
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== "function") throw new TypeError(`expose("${name}"): ${method} is not a method of it`);
    methods.set(method, {
      name: method,
      stream: GENERATORS.has((fn as { constructor: { name: string } }).constructor.name),
      oneway: oneway.has(method),
    });
  }
  for (const method of oneway) {
    if (!methods.has(method))
      throw new TypeError(`expose("${name}"): oneway method ${method} is not in methods`);
  }
  return methods;
}

/** The error of a call to a method that is not exposed, listing those that are. */
export function unknownMethod(object: string, method: string, methods: Iterable<string>): ServerError {
  const reason = typeof method === "string" && forbiddenReason(method);
  const list = [...methods].join(", ");
  return new ServerError(
    Code.UNIMPLEMENTED,
    `${object}.${String(method)} is not exposed${reason ? ` (${reason})` : ""}; methods: ${list}`,
    { field: "method" },
  );
}
