import { Code } from "../src/code.js";
import { forbiddenReason } from "../src/reserved-names.js";
import { ServerError } from "../src/server-error.js";

/** Which instance of an exposed class serves a call (Pyro's instance modes). */
export type InstanceMode = "single" | "session" | "percall";

/**
 * Where an exposed object's methods run: on the node's event loop ("main",
 * the default), or in its worker threads ("workers"), every core busy with
 * the calls, none of them delaying the node's other work.
 */
export type Placement = "main" | "workers";

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
  /**
   * Methods safe to call twice (`true`: all of them). A pool sends an
   * idempotent call again when its node fails mid-call, and races a copy of a
   * straggler on an idle node; other methods' calls are never repeated.
   */
  idempotent?: readonly string[] | boolean;
  /**
   * Calls of each method the node runs at once with profit, by method name
   * (an I/O-bound method's limit). A pool keeps that many in flight per node;
   * unlisted methods get one per worker slot.
   */
  concurrency?: Readonly<Record<string, number>>;
  /**
   * Where the methods run. "main" (default): on the event loop, where shared
   * state, callbacks and by-reference results work. "workers": in the node's
   * worker threads, each of which imports `module`; a "session" class is then
   * an actor living in one thread, a "single" class one actor for every
   * caller, and a plain object is one copy per thread.
   */
  run?: Placement;
  /**
   * For run "workers": the module that exports the object, a path or a file:
   * URL (`new URL("./scoring.js", import.meta.url)`). Every worker thread runs
   * its top level: not the script that starts the node.
   */
  module?: string | URL;
  /** For run "workers": the export of `module` that holds it. Default: the exposed name. */
  exportName?: string;
}

/** One exposed method, as the host dispatches it. */
export interface ExposedMethod {
  name: string;
  /** An async generator (or generator): its values travel as a stream. */
  stream: boolean;
  oneway: boolean;
  idempotent: boolean;
  /** Calls worth running at once; 0: one per worker slot. */
  concurrency: number;
}

const GENERATORS = new Set(["AsyncGeneratorFunction", "GeneratorFunction"]);

/** Whether a method is an async generator (or generator): its values travel as a stream. */
export function isStreamMethod(fn: unknown): boolean {
  return (
    typeof fn === "function" && GENERATORS.has((fn as { constructor: { name: string } }).constructor.name)
  );
}

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
  const idempotent =
    options.idempotent === true ? new Set(options.methods) : new Set(options.idempotent || []);
  const concurrency = options.concurrency ?? {};
  const methods = new Map<string, ExposedMethod>();
  for (const method of options.methods) {
    const reason = forbiddenReason(method);
    if (reason) throw new TypeError(`expose("${name}"): ${reason}`);
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== "function") throw new TypeError(`expose("${name}"): ${method} is not a method of it`);
    methods.set(method, {
      name: method,
      stream: isStreamMethod(fn),
      oneway: oneway.has(method),
      idempotent: idempotent.has(method),
      concurrency: concurrencyOf(name, method, concurrency[method]),
    });
  }
  const listed: [string, Iterable<string>][] = [
    ["oneway", oneway],
    ["idempotent", idempotent],
    ["concurrency", Object.keys(concurrency)],
  ];
  for (const [option, names] of listed) {
    for (const method of names) {
      if (!methods.has(method))
        throw new TypeError(`expose("${name}"): ${option} method ${method} is not in methods`);
    }
  }
  return methods;
}

/** Most calls a method may declare it runs at once. */
const MAX_METHOD_CONCURRENCY = 100_000;

function concurrencyOf(name: string, method: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 1 || value > MAX_METHOD_CONCURRENCY) {
    throw new TypeError(
      `expose("${name}"): concurrency of ${method} must be an integer from 1 to ${MAX_METHOD_CONCURRENCY}, got ${value}`,
    );
  }
  return value;
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
