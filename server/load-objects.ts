import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ExposeOptions, InstanceMode, Placement } from "./exposure.js";

/** What loading needs of a node. */
interface Exposer {
  expose(name: string, target: object, options: ExposeOptions): unknown;
}

/** An export that says what of it may be called. */
interface Declared {
  exposed?: unknown;
  instance?: InstanceMode;
  oneway?: readonly string[];
  idempotent?: readonly string[] | boolean;
  concurrency?: Readonly<Record<string, number>>;
  run?: Placement | ((...args: unknown[]) => unknown);
}

/**
 * Exposes a module's objects on a node (`ferry node --load ./objects.js`).
 * Each export that lists its callable methods in `exposed` (a static field of
 * a class, or a property of an object) is exposed under the export's name; a
 * class's static `instance` picks its mode, and `oneway`, `idempotent`,
 * `concurrency` and `run` ("workers": in the node's worker threads, which
 * import this module too) say the same as the options of `expose`. A default-exported function gets
 * the node to expose what it likes. Returns the names exposed.
 *
 * ```js
 * export class Calculator { static exposed = ["add"]; add(a, b) { return a + b; } }
 * ```
 */
export async function loadObjects(node: Exposer, file: string): Promise<string[]> {
  const url = pathToFileURL(resolve(file)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `cannot load ${file}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    );
  }
  const exposed: string[] = [];
  for (const [name, value] of Object.entries(mod)) {
    if (name === "default" || value === null || (typeof value !== "object" && typeof value !== "function"))
      continue;
    const declared = value as Declared;
    if (!Array.isArray(declared.exposed)) continue;
    node.expose(name, value as object, {
      methods: declared.exposed as string[],
      instance: typeof value === "function" ? declared.instance : undefined,
      oneway: declared.oneway,
      idempotent: declared.idempotent,
      concurrency: declared.concurrency,
      // A method named `run` is a method, not a placement.
      run: typeof declared.run === "function" ? undefined : declared.run,
      module: url,
      exportName: name,
    });
    exposed.push(name);
  }
  if (typeof mod.default === "function") {
    const names = await (mod.default as (n: Exposer) => unknown)(node);
    if (Array.isArray(names)) exposed.push(...names.map(String));
    else exposed.push("(default export)");
  }
  if (exposed.length === 0) {
    throw new Error(
      `${file} exposes nothing: give exported objects or classes an \`exposed\` list of method names, or export default function (node) { node.expose(...) }`,
    );
  }
  return exposed;
}
