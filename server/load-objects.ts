import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ExposeOptions, InstanceMode, Placement } from "./exposure.js";
import { importTypeScriptInThreads } from "./workers/worker-thread.js";

/** Modules Node 20 cannot import without a TypeScript loader. */
const TYPESCRIPT = /\.[cm]?ts$/i;

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
 * the node to expose what it likes. Returns the names exposed; `report`
 * hears one line saying what was exposed and which exports were skipped, and why.
 *
 * ```js
 * export class Calculator { static exposed = ["add"]; add(a, b) { return a + b; } }
 * ```
 *
 * A `.ts` (`.mts`, `.cts`) module needs tsx: unless the process imports
 * TypeScript already, tsx's loader is registered, here and in the node's
 * worker threads, from the module's project (its directory, then the working
 * directory) or else the copy ferry itself can find.
 */
export async function loadObjects(
  node: Exposer,
  file: string,
  report?: (line: string) => void,
): Promise<string[]> {
  const path = resolve(file);
  const url = pathToFileURL(path).href;
  if (TYPESCRIPT.test(path)) await importTypeScript(file, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `cannot load ${file}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}${commonJsHint(file, path)}`,
    );
  }
  const exposed: string[] = [];
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(mod)) {
    if (name === "default") continue;
    if (value === null || (typeof value !== "object" && typeof value !== "function")) {
      skipped.push(`${name} (a ${value === null ? "null" : typeof value}, not an object or class)`);
      continue;
    }
    const declared = value as Declared;
    if (!Array.isArray(declared.exposed)) {
      skipped.push(`${name} (no \`exposed\` list of methods)`);
      continue;
    }
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
  const skips = skipped.length > 0 ? `; skipped ${skipped.join(", ")}` : "";
  if (exposed.length === 0) {
    throw new Error(
      `${file} exposes nothing: give exported objects or classes an \`exposed\` list of method names, or export default function (node) { node.expose(...) }${skips}`,
    );
  }
  report?.(`${file}: exposed ${exposed.join(", ")}${skips}`);
  return exposed;
}

/** The tsx loader this process registered, once it has. */
let registered: Promise<void> | undefined;

/** Makes `file` (TypeScript, at `path`) importable here and in worker threads, or says what to do. */
async function importTypeScript(file: string, path: string): Promise<void> {
  // Under tsx already (ferry from source: its tests, `tsx` running ferry's
  // CLI), or a Node that strips types itself.
  if (import.meta.url.endsWith(".ts")) return;
  if ((process.features as { typescript?: unknown }).typescript) return;
  if (!registered) {
    const api = tsxApi(dirname(path)) ?? tsxApi(process.cwd()) ?? ownTsxApi();
    if (api === undefined) {
      throw new Error(`${file} is TypeScript: npm install tsx in your project, or compile it to .js`);
    }
    registered = (import(api) as Promise<{ register(): unknown }>).then((tsx) => {
      tsx.register();
      importTypeScriptInThreads(api);
    });
  }
  try {
    await registered;
  } catch (err) {
    throw new Error(
      `cannot load ${file}: tsx's loader failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * What to try when a `.ts` module failed to import in a CommonJS package
 * (`npm init -y` writes `"type": "commonjs"`), where tsx reads it as CommonJS.
 */
function commonJsHint(file: string, path: string): string {
  if (!/\.ts$/i.test(path)) return "";
  const hint = ` (${file} is read as CommonJS here: set "type": "module" in its package.json, or name it .mts)`;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const { type } = JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown };
        return type === "module" ? "" : hint;
      } catch {
        return "";
      }
    }
    if (dirname(dir) === dir) return hint;
  }
}

/**
 * The file: URL of `tsx/esm/api` as an ES module importing it from `dir`
 * would get. Node 20's import.meta.resolve takes no parent without a flag,
 * so this finds tsx's package.json as require would and reads the "import"
 * entry of its exports map.
 */
function tsxApi(dir: string): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(join(dir, "noop.js")).resolve("tsx/package.json");
  } catch {
    return undefined;
  }
  const entry = (JSON.parse(readFileSync(manifest, "utf8")) as { exports?: Record<string, unknown> })
    .exports?.["./esm/api"] as { import?: string | { default?: string } } | undefined;
  const target = typeof entry?.import === "string" ? entry.import : entry?.import?.default;
  return target === undefined ? undefined : pathToFileURL(join(dirname(manifest), target)).href;
}

/** The tsx ferry itself resolves (its own development copy, or one installed beside it). */
function ownTsxApi(): string | undefined {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    return undefined;
  }
}
