import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Code } from "../src/code.js";
import {
  InstanceMode as InstanceModePb,
  type ObjectDescription,
  Placement as PlacementPb,
} from "../src/gen/ferry/v1/objects.js";
import { isObjectName } from "../src/object-name.js";
import { ServerError } from "../src/server-error.js";
import {
  type ExposedMethod,
  type ExposeOptions,
  exposedMethods,
  type InstanceMode,
  type Placement,
  unknownMethod,
} from "./exposure.js";
import { Actor, type WorkerCall, type WorkerObjects } from "./workers/worker-objects.js";
import type { ModuleSpec } from "./workers/worker-task.js";

type Constructor = new () => object;

interface Entry {
  name: string;
  mode: InstanceMode;
  methods: Map<string, ExposedMethod>;
  /** The object itself (mode "single" of an object), or the class to instantiate. */
  target: object;
  isClass: boolean;
  run: Placement;
  /** For run "workers": the module and export the worker threads import. */
  module?: { url: string; file: string; exportName: string };
  singleton?: object;
}

/**
 * Instances a client session owns: its "session"-mode objects, by object
 * name (an {@link Actor} for a class that runs in worker threads).
 */
export class SessionObjects {
  readonly id: string;
  readonly #instances = new Map<string, object>();
  readonly #workers: WorkerObjects | undefined;

  constructor(id: string, workers?: WorkerObjects) {
    this.id = id;
    this.#workers = workers;
  }

  get(name: string): object | undefined {
    return this.#instances.get(name);
  }

  /** Instances the session holds now. */
  get size(): number {
    return this.#instances.size;
  }

  set(name: string, instance: object): void {
    this.#instances.set(name, instance);
  }

  /** Drops the session's instance of `name` (its proxy was released). */
  drop(name: string): void {
    const instance = this.#instances.get(name);
    if (instance instanceof Actor) this.#workers?.release(instance);
    this.#instances.delete(name);
  }

  /** Drops every instance: the session ended. */
  clear(): void {
    for (const name of [...this.#instances.keys()]) this.drop(name);
  }
}

/** A method bound to the instance that serves it, to run on this thread. */
export interface BoundCall {
  where: "here";
  object: string;
  method: ExposedMethod;
  self: object;
  fn: (...args: unknown[]) => unknown;
}

/** What a call resolves to: a method to run here, or one that runs in the worker threads. */
export type ResolvedCall = BoundCall | WorkerCall;

const MODE_PB: Record<InstanceMode, InstanceModePb> = {
  single: InstanceModePb.INSTANCE_MODE_SINGLE,
  session: InstanceModePb.INSTANCE_MODE_SESSION,
  percall: InstanceModePb.INSTANCE_MODE_PERCALL,
};

/** Most objects a node may expose by name. */
export const MAX_EXPOSED_OBJECTS = 10_000;

/**
 * The objects a node exposes by name, with the methods each allows. Nothing
 * else on the node can be reached through the object protocol.
 */
export class ObjectHost {
  readonly #entries = new Map<string, Entry>();
  readonly #workers: WorkerObjects | undefined;

  /** `workers` serves the objects exposed with run "workers". */
  constructor(workers?: WorkerObjects) {
    this.#workers = workers;
  }

  /** A session's own instances, released as the session ends. */
  sessionObjects(id: string): SessionObjects {
    return new SessionObjects(id, this.#workers);
  }

  /**
   * Exposes an object (served as it is) or a class (instantiated per the
   * `instance` mode, without arguments) under `name`.
   */
  expose(name: string, target: object | Constructor, options: ExposeOptions): void {
    if (!isObjectName(name)) {
      throw new TypeError(
        `expose: object names are letters, digits, "_", "-" and ".", got ${JSON.stringify(name)}`,
      );
    }
    if (this.#entries.has(name)) throw new TypeError(`expose: "${name}" is already exposed`);
    if (this.#entries.size >= MAX_EXPOSED_OBJECTS)
      throw new RangeError(`expose: at most ${MAX_EXPOSED_OBJECTS} objects`);
    const isClass =
      typeof target === "function" && typeof (target as { prototype?: unknown }).prototype === "object";
    if (!isClass && (typeof target !== "object" || target === null)) {
      throw new TypeError(`expose("${name}"): expected an object or a class`);
    }
    const methods = exposedMethods(name, isClass ? (target as Constructor).prototype : target, options);
    const mode = isClass ? (options.instance ?? "session") : "single";
    if (!isClass && options.instance && options.instance !== "single") {
      throw new TypeError(
        `expose("${name}"): instance mode "${options.instance}" needs a class, not an object`,
      );
    }
    if (!["single", "session", "percall"].includes(mode)) {
      throw new TypeError(
        `expose("${name}"): instance must be "single", "session" or "percall", got "${mode}"`,
      );
    }
    const run = options.run ?? "main";
    if (run !== "main" && run !== "workers") {
      throw new TypeError(`expose("${name}"): run must be "main" or "workers", got ${JSON.stringify(run)}`);
    }
    let module: Entry["module"];
    if (run === "workers") {
      if (!this.#workers) throw new TypeError(`expose("${name}"): this host has no worker threads`);
      if (options.module === undefined) {
        throw new TypeError(
          `expose("${name}"): run "workers" needs options.module, the file that exports it, so that each worker thread can import it`,
        );
      }
      const url = moduleUrl(options.module);
      module = { url, file: fileURLToPath(url), exportName: options.exportName ?? name };
    }
    this.#entries.set(name, { name, mode, methods, target, isClass, run, module });
  }

  /** What the worker threads import for `name`, when it runs there. */
  moduleSpec(name: string): ModuleSpec | undefined {
    const entry = this.#entries.get(name);
    if (!entry?.module) return undefined;
    return {
      module: entry.module.url,
      file: entry.module.file,
      exportName: entry.module.exportName,
      methods: [...entry.methods.keys()],
      isClass: entry.isClass,
    };
  }

  /** Where `name`'s methods run. */
  placement(name: string): Placement | undefined {
    return this.#entries.get(name)?.run;
  }

  /** Names of exposed objects. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Describe's answer: one object, or all when `name` is empty. */
  describe(name = ""): ObjectDescription[] {
    const entries = name === "" ? [...this.#entries.values()] : [this.#entry(name)];
    return entries.map((e) => ({
      name: e.name,
      mode: MODE_PB[e.mode],
      placement: e.run === "workers" ? PlacementPb.PLACEMENT_WORKERS : PlacementPb.PLACEMENT_MAIN,
      methods: [...e.methods.values()].map((m) => ({
        name: m.name,
        stream: m.stream,
        oneway: m.oneway,
        idempotent: m.idempotent,
        concurrency: m.concurrency,
      })),
    }));
  }

  /**
   * Finds `object.method` and the instance that serves it for this session
   * (or a fresh one when there is no session). NOT_FOUND / UNIMPLEMENTED list
   * what exists.
   */
  resolve(object: string, method: string, session: SessionObjects | undefined): ResolvedCall {
    const entry = this.#entry(object);
    const exposed = entry.methods.get(method);
    if (!exposed) {
      throw unknownMethod(object, method, entry.methods.keys());
    }
    if (entry.module) {
      const target = {
        module: entry.module.url,
        exportName: entry.module.exportName,
        instance: this.#actor(entry, session),
      };
      return { where: "workers", object, method: exposed, target };
    }
    const self = this.#instance(entry, session);
    return {
      where: "here",
      object,
      method: exposed,
      self,
      fn: (self as Record<string, (...a: unknown[]) => unknown>)[method] as never,
    };
  }

  /** Whether `name` is a class exposed with a new instance per call. */
  isPerCall(name: string): boolean {
    return this.#entries.get(name)?.mode === "percall";
  }

  /**
   * The exposed class `object` is an instance of, to hand it out by
   * reference; undefined when it is of no exposed class.
   */
  classOf(object: object): { name: string; methods: Map<string, ExposedMethod> } | undefined {
    for (const entry of this.#entries.values()) {
      if (entry.isClass && entry.run === "main" && object instanceof (entry.target as Constructor)) {
        return { name: entry.name, methods: entry.methods };
      }
    }
    return undefined;
  }

  #entry(name: string): Entry {
    const entry = typeof name === "string" ? this.#entries.get(name) : undefined;
    if (!entry) {
      throw new ServerError(
        Code.NOT_FOUND,
        `no object ${JSON.stringify(name)} on this node; objects: ${this.names().join(", ")}`,
        {
          field: "object",
        },
      );
    }
    return entry;
  }

  /** Which instance of a worker-run object serves a call: see {@link WorkerTarget}. */
  #actor(entry: Entry, session: SessionObjects | undefined): "export" | "percall" | Actor {
    if (!entry.isClass) return "export";
    const workers = this.#workers as WorkerObjects;
    switch (entry.mode) {
      case "percall":
        return "percall";
      case "single":
        entry.singleton ??= workers.actor(true);
        return entry.singleton as Actor;
      case "session": {
        // Without a session (unary Invoke) the call gets an instance of its own.
        if (!session) return "percall";
        let actor = session.get(entry.name);
        if (!actor) {
          actor = workers.actor(false);
          session.set(entry.name, actor);
        }
        return actor as Actor;
      }
    }
  }

  #instance(entry: Entry, session: SessionObjects | undefined): object {
    if (!entry.isClass) return entry.target;
    const make = () => new (entry.target as Constructor)();
    switch (entry.mode) {
      case "single":
        entry.singleton ??= make();
        return entry.singleton;
      case "percall":
        return make();
      case "session": {
        if (!session) return make();
        let instance = session.get(entry.name);
        if (!instance) {
          instance = make();
          session.set(entry.name, instance);
        }
        return instance;
      }
    }
  }
}

/** A module named by path (relative to the working directory) or URL, as a file: URL. */
function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^file:/.test(module)) return module;
  return pathToFileURL(resolve(module)).href;
}
