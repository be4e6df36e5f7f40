/**
 * Names JavaScript itself looks up on any value: `then` (await), `toJSON`
 * (JSON.stringify), `inspect` (console.log), `valueOf`, `toString`,
 * `constructor`, `__proto__`, `prototype`. A proxy answers them locally
 * (undefined, or its own `toString`), so it is never taken for a promise or
 * a thing to serialize.
 */
const LOOKED_UP = new Set([
  "constructor",
  "__proto__",
  "prototype",
  "then",
  "toString",
  "toJSON",
  "valueOf",
  "inspect",
]);

/**
 * Names never callable on a remote object, on either side: those above and
 * the other members every object has. A node refuses to expose or call them
 * (a proxy sends the others, for the node's refusal and list of methods); a
 * callback object never offers them.
 */
const RESERVED = new Set([
  ...LOOKED_UP,
  "toLocaleString",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);

/** Whether a proxy answers `name` itself: one of the {@link LOOKED_UP} names. */
export function isLookedUpName(name: string): boolean {
  return LOOKED_UP.has(name);
}

/** Why `name` cannot be exposed or called, or undefined when it can. */
export function forbiddenReason(name: string): string | undefined {
  if (typeof name !== "string" || name === "") return "method names are non-empty strings";
  if (name.startsWith("_")) return `${name} starts with "_": private by convention`;
  if (RESERVED.has(name)) return `${name} is a member of every object, never callable`;
  if (!/^[A-Za-z$][\w$]*$/.test(name)) return `${JSON.stringify(name)} is not a method name`;
  return undefined;
}
