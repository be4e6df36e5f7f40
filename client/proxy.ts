import { Code } from "../src/code.js";
import { RemoteCall } from "./remote-call.js";
import { RemoteError } from "./remote-error.js";
import type { ClientSession } from "./session.js";

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
}

interface ProxyState {
  session: ClientSession;
  name: string;
  options: ProxyOptions;
  released: boolean;
}

const states = new WeakMap<object, ProxyState>();

/** Property names a proxy never turns into remote calls, so it is not mistaken for a promise or a thing with a prototype. */
const NOT_METHODS = new Set(["then", "constructor", "__proto__", "toJSON", "valueOf", "inspect"]);

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Makes the proxy of the object `name` reached through `session`. */
export function createProxy<T>(session: ClientSession, name: string, options: ProxyOptions): Remote<T> {
  const state: ProxyState = { session, name, options, released: false };
  const stubs = new Map<string, (...args: unknown[]) => RemoteCall<unknown>>();
  const release = async () => {
    if (state.released) return;
    state.released = true;
    session.release([name]);
  };
  const proxy = new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (property === Symbol.asyncDispose) return release;
      if (property === "toString" || property === Symbol.toPrimitive || property === INSPECT) {
        return () => `[Remote ${name}${state.released ? " (released)" : ""}]`;
      }
      if (typeof property === "symbol" || NOT_METHODS.has(property)) return undefined;
      let stub = stubs.get(property);
      if (!stub) {
        stub = (...args: unknown[]) =>
          new RemoteCall((sink) => {
            if (state.released) {
              sink.fail(
                new RemoteError(
                  Code.FAILED_PRECONDITION,
                  `${name} was released; make a new proxy to call it`,
                ),
              );
              return () => {};
            }
            const oneway = state.options.oneway?.includes(property) === true;
            return session.call(name, property, args, { ...state.options, oneway }, sink);
          });
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
  }) as Remote<T>;
  states.set(proxy, state);
  return proxy;
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
  return createProxy<T>(state.session, state.name, { ...state.options, ...options });
}
