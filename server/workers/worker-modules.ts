import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import type { CallTask, ModuleSpec } from "./worker-task.js";

type Constructor = new () => object;

interface Export {
  spec: ModuleSpec;
  target: object;
}

/**
 * The users' modules one worker thread has imported, the exports the node
 * exposes from them, and the actors (instances pinned to this thread) made
 * so far. Worker side.
 */
export class WorkerModules {
  readonly #imports = new Map<string, Promise<Record<string, unknown>>>();
  /** Loads under way, by export: a call that comes first waits for its own. */
  readonly #loading = new Map<string, Promise<void>>();
  readonly #exports = new Map<string, Export>();
  readonly #failed = new Map<string, string>();
  readonly #classes = new Set<Constructor>();
  readonly #actors = new Map<number, object>();

  /** Imports `spec.module` (once per module) and checks the export is what was exposed. */
  load(spec: ModuleSpec): Promise<void> {
    const key = keyOf(spec.module, spec.exportName);
    const loading = this.#load(spec, key).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  /** Settles once the export a call needs has loaded here (or failed to). */
  async loaded(task: CallTask): Promise<void> {
    await this.#loading.get(keyOf(task.module, task.exportName))?.catch(() => {});
  }

  async #load(spec: ModuleSpec, key: string): Promise<void> {
    try {
      let imported = this.#imports.get(spec.module);
      if (!imported) {
        imported = (spec.typescript ? registerTypeScript(spec.typescript) : Promise.resolve()).then(
          () => import(spec.module) as Promise<Record<string, unknown>>,
        );
        this.#imports.set(spec.module, imported);
      }
      let mod: Record<string, unknown>;
      try {
        mod = await imported;
      } catch (err) {
        throw new Error(
          `worker threads cannot import ${spec.file} (export ${spec.exportName}): ${firstLine(err)}`,
        );
      }
      const target = mod[spec.exportName];
      const prototype = spec.isClass ? (target as { prototype?: unknown } | undefined)?.prototype : target;
      if (typeof prototype !== "object" || prototype === null) {
        throw new Error(
          `${spec.file}: export ${spec.exportName} is not ${spec.isClass ? "a class" : "an object"} in a worker thread`,
        );
      }
      for (const method of spec.methods) {
        if (typeof (prototype as Record<string, unknown>)[method] !== "function") {
          throw new Error(
            `${spec.file}: export ${spec.exportName} has no method ${method} in a worker thread`,
          );
        }
      }
      this.#exports.set(key, { spec, target: target as object });
      if (spec.isClass) this.#classes.add(target as Constructor);
    } catch (err) {
      this.#failed.set(key, firstLine(err));
      throw err;
    }
  }

  /**
   * The instance that serves a call: the export itself, a new instance, or
   * the actor of `task.instance.id`, made here at its first call.
   */
  instance(task: CallTask): object {
    const found = this.#exports.get(keyOf(task.module, task.exportName));
    if (!found) {
      const why = this.#failed.get(keyOf(task.module, task.exportName)) ?? "it was never loaded here";
      throw new ServerError(
        Code.FAILED_PRECONDITION,
        `${task.label}: its module is not loaded in worker threads: ${why}`,
      );
    }
    const { instance } = task;
    if (instance.kind === "export") return found.target;
    const make = () => new (found.target as Constructor)();
    if (instance.kind === "percall") return make();
    let actor = this.#actors.get(instance.id);
    if (!actor) {
      actor = make();
      this.#actors.set(instance.id, actor);
    }
    return actor;
  }

  /** Whether `value` is an instance of an exposed class: a by-reference result on the main thread. */
  isExposedInstance(value: object): boolean {
    for (const type of this.#classes) if (value instanceof type) return true;
    return false;
  }

  dropActor(id: number): void {
    this.#actors.delete(id);
  }
}

function keyOf(module: string, exportName: string): string {
  return `${module}#${exportName}`;
}

function firstLine(err: unknown): string {
  const text =
    err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return text.split("\n")[0] ?? text;
}

/** tsx's loader in this thread, registered once (from source, the thread's entry has it already). */
let typeScript: Promise<void> | undefined;

function registerTypeScript(api: string): Promise<void> {
  typeScript ??= import(api).then((tsx: { register(): unknown }) => {
    tsx.register();
  });
  return typeScript;
}
