import { Code } from "../src/code.js";
import { InstanceMode as InstanceModePb, type ObjectDescription } from "../src/gen/ferry/v1/objects.js";
import { ServerError } from "../src/server-error.js";
import {
  type ExposedMethod,
  type ExposeOptions,
  exposedMethods,
  type InstanceMode,
  unknownMethod,
} from "./exposure.js";

type Constructor = new () => object;

interface Entry {
  name: string;
  mode: InstanceMode;
  methods: Map<string, ExposedMethod>;
  /** The object itself (mode "single" of an object), or the class to instantiate. */
  target: object;
  isClass: boolean;
  singleton?: object;
}

/** Instances a client session owns: its "session"-mode objects and what it was handed by reference. */
export class SessionObjects {
  readonly id: string;
  readonly instances = new Map<string, object>();

  constructor(id: string) {
    this.id = id;
  }
}

/** What a call resolves to: the bound method and how it answers. */
export interface ResolvedCall {
  object: string;
  method: ExposedMethod;
  self: object;
  fn: (...args: unknown[]) => unknown;
}

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

  /**
   * Exposes an object (served as it is) or a class (instantiated per the
   * `instance` mode, without arguments) under `name`.
   */
  expose(name: string, target: object | Constructor, options: ExposeOptions): void {
    if (typeof name !== "string" || !/^[A-Za-z][\w.-]{0,127}$/.test(name)) {
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
    this.#entries.set(name, { name, mode, methods, target, isClass });
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
    const self = this.#instance(entry, session);
    return {
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
      if (entry.isClass && object instanceof (entry.target as Constructor)) {
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
        let instance = session.instances.get(entry.name);
        if (!instance) {
          instance = make();
          session.instances.set(entry.name, instance);
        }
        return instance;
      }
    }
  }
}
