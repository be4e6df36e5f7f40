import { Code } from "../src/code.js";
import { type ObjectRef, RefOwner } from "../src/gen/ferry/v1/value.js";
import { isLookedUpName } from "../src/reserved-names.js";
import { RemoteCall } from "./remote-call.js";
import { RemoteError, toRemoteError } from "./remote-error.js";
import type { ClientSession } from "./session.js";
import { type CallControl, type CallSink, type CallTarget, STREAM_WINDOW_ITEMS } from "./session-call.js";

/** What a remote method gives back: a stream's items, or the awaited value. */
export type RemoteReturn<R> =
  R extends AsyncIterable<infer Y>
    ? RemoteCall<Y[]>
    : R extends Generator<infer Y>
      ? RemoteCall<Y[]>
      : RemoteCall<Awaited<R>>;

/**
 * A remote object as its callers see it: every public method of T, each
 * returning a RemoteCall (await it, or `for await` a stream). Fields and
 * private members are not part of it.
 */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => RemoteReturn<R>
    : never;
} & AsyncDisposable;

/** Options of every call made through one proxy. */
export interface ProxyOptions {
  /** Deadline of each call in milliseconds. */
  timeoutMs: number;
  /** Aborting it cancels every call of this proxy in flight. */
  signal?: AbortSignal;
  /** Methods the caller does not wait for (the node's own oneway methods are never waited for either). */
  oneway?: readonly string[];
  /**
   * Items of a streaming method the node sends ahead of a `for await` loop
   * that has not taken them yet (default {@link STREAM_WINDOW_ITEMS}): a slow
   * loop holds at most this many, and the node's method waits for it.
   */
  streamWindow?: number;
}

interface ProxyState {
  session: ClientSession;
  target: CallTarget;
  /** Shown in messages: the object's name, or its class and ref id. */
  label: string;
  options: ProxyOptions;
  /** Known methods: from the ref for objects handed out, from Describe for named ones. */
  methods: readonly string[] | undefined;
  /** Methods the node declares oneway (from Describe). */
  oneway: Set<string>;
  released: boolean;
}

const states = new WeakMap<object, ProxyState>();

/** The control of a call refused before it started. */
const NOTHING: CallControl = { cancel: () => {}, took: () => {} };

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The prototype a proxy reports, so nothing takes it for plain data. */
const REMOTE_PROTOTYPE = Object.freeze(Object.create(null) as object);

/**
 * Makes a proxy. Its first call of a named object asks the node to Describe
 * the object (once per session), so a method that does not exist fails at
 * once with the list of those that do.
 */
export function createProxy<T>(
  session: ClientSession,
  target: CallTarget,
  options: ProxyOptions,
  methods?: readonly string[],
): Remote<T> {
  // Checked here, where connect().proxy() and withOptions() both arrive.
  const { streamWindow } = options;
  if (
    streamWindow !== undefined &&
    (!Number.isInteger(streamWindow) || streamWindow < 1 || streamWindow > 0xffffffff)
  ) {
    throw new RangeError(
      `streamWindow must be a whole number of items from 1 to 2^32-1, got ${streamWindow}`,
    );
  }
  const label = "object" in target ? target.object : target.refId;
  const state: ProxyState = { session, target, label, options, methods, oneway: new Set(), released: false };
  const stubs = new Map<string, (...args: unknown[]) => RemoteCall<unknown>>();
  const release = async () => {
    if (state.released) return;
    state.released = true;
    session.release(["object" in target ? target.object : target.refId]);
  };
  const start = (method: string, args: unknown[], sink: CallSink): CallControl => {
    if (state.released) {
      sink.fail(
        new RemoteError(Code.FAILED_PRECONDITION, `${label} was released; make a new proxy to call it`),
      );
      return NOTHING;
    }
    if (state.methods && !state.methods.includes(method)) {
      sink.fail(
        new RemoteError(
          Code.UNIMPLEMENTED,
          `${label}.${method} is not exposed; methods: ${state.methods.join(", ")}`,
        ),
      );
      return NOTHING;
    }
    const oneway = state.options.oneway?.includes(method) === true || state.oneway.has(method);
    if (state.methods || !("object" in target)) {
      return session.call(target, method, args, { ...state.options, oneway }, sink);
    }
    // The call starts once Describe has answered; until then there is nothing to cancel or tell.
    let control: CallControl | undefined;
    let cancelled = false;
    session.describe(target.object, state.options.timeoutMs).then(
      (known) => {
        state.methods = known.map((m) => m.name);
        state.oneway = new Set(known.filter((m) => m.oneway).map((m) => m.name));
        if (!cancelled) control = start(method, args, sink);
      },
      (err: unknown) => sink.fail(toRemoteError(err)),
    );
    return {
      cancel: () => {
        cancelled = true;
        control?.cancel();
      },
      // No item can arrive before the call starts, so none can be taken either.
      took: (items) => control?.took(items),
    };
  };
  const proxy = new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (property === Symbol.asyncDispose) return release;
      if (property === "toString" || property === Symbol.toPrimitive || property === INSPECT) {
        return () => `[Remote ${label}${state.released ? " (released)" : ""}]`;
      }
      // Never a remote call (src/reserved-names.ts): a proxy is not mistaken for a promise,
      // a thing with a prototype or something to serialize.
      if (typeof property === "symbol" || isLookedUpName(property)) return undefined;
      let stub = stubs.get(property);
      if (!stub) {
        stub = (...args: unknown[]) => new RemoteCall((sink) => start(property, args, sink));
        stubs.set(property, stub);
      }
      return stub;
    },
    set() {
      throw new TypeError("a remote object's properties cannot be set");
    },
    deleteProperty() {
      throw new TypeError("a remote object's properties cannot be deleted");
    },
    defineProperty() {
      throw new TypeError("a remote object's properties cannot be defined");
    },
    has(_target, property) {
      return property === Symbol.asyncDispose;
    },
    getPrototypeOf() {
      return REMOTE_PROTOTYPE;
    },
  }) as Remote<T>;
  states.set(proxy, state);
  return proxy;
}

/** The ref of a proxy of an object the node handed out, so it can be passed back as an argument. */
export function refOfProxy(value: object): ObjectRef | undefined {
  const state = states.get(value);
  if (!state || !("refId" in state.target)) return undefined;
  return { id: state.target.refId, owner: RefOwner.REF_OWNER_NODE, methods: [...(state.methods ?? [])] };
}

/**
 * A view of `proxy` whose calls use other options, e.g. a signal for a batch
 * of calls or a shorter deadline:
 *
 * ```ts
 * await withOptions(calc, { timeoutMs: 100, signal }).add(2, 3);
 * ```
 */
export function withOptions<T>(proxy: Remote<T>, options: Partial<ProxyOptions>): Remote<T> {
  const state = states.get(proxy);
  if (!state) throw new TypeError("withOptions takes a proxy made by connect(...).proxy()");
  return createProxy<T>(state.session, state.target, { ...state.options, ...options }, state.methods);
}
