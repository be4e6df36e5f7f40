import { toCallError } from "../src/call-error.js";
import { Code } from "../src/code.js";
import type { Callback, CallbackResult } from "../src/gen/ferry/v1/objects.js";
import { type ObjectRef, RefOwner } from "../src/gen/ferry/v1/value.js";
import { forbiddenReason } from "../src/reserved-names.js";
import { ServerError } from "../src/server-error.js";
import { incomingSpan, inSpan } from "../src/trace-context.js";
import { type RefCodec, toValue } from "../src/value-codec.js";
import { decodeArgs, ListPath } from "../src/value-lists.js";

interface Registered {
  target: object;
  /** Empty for a function: it is called itself. */
  methods: Set<string>;
  /** Calls in flight that passed it; it is dropped when the last one ends. */
  users: number;
}

/** Callable members of a local object passed as a callback: its own and its class's, not Object's. */
function callableMethods(object: object): Set<string> {
  const names = new Set<string>();
  for (
    let o: object | null = object;
    o && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(o)) {
      // The names a node could never call either (src/reserved-names.ts).
      if (forbiddenReason(name) !== undefined) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (typeof descriptor?.value === "function") names.add(name);
    }
  }
  return names;
}

/**
 * Whether a local object travels as a callback object: an instance of a
 * user's class, or a plain object with methods. Plain data travels by value,
 * and built-ins (Date, RegExp, Error, Promise...) not at all.
 */
function isCallbackObject(value: object): boolean {
  if (Object.prototype.toString.call(value) !== "[object Object]") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return true;
  return Object.values(value).some((v) => typeof v === "function");
}

/**
 * The references of one session, client side: local functions and objects
 * passed as arguments (callbacks the node may call while the call that passed
 * them runs), and proxies of objects the node handed out by reference.
 */
export class ClientRefs implements RefCodec {
  readonly #registered = new Map<string, Registered>();
  readonly #ids = new WeakMap<object, string>();
  readonly #proxyRef: (value: object) => ObjectRef | undefined;
  readonly #makeProxy: (ref: ObjectRef) => unknown;
  #next = 1;
  /** Callback ids registered since the last take(), to tie them to the call being encoded. */
  #fresh: string[] = [];

  constructor(proxyRef: (value: object) => ObjectRef | undefined, makeProxy: (ref: ObjectRef) => unknown) {
    this.#proxyRef = proxyRef;
    this.#makeProxy = makeProxy;
  }

  toRef(value: object): ObjectRef | undefined {
    const nodeRef = this.#proxyRef(value);
    if (nodeRef) return nodeRef;
    if (typeof value !== "function" && !isCallbackObject(value)) return undefined;
    let id = this.#ids.get(value);
    let entry = id === undefined ? undefined : this.#registered.get(id);
    if (!entry) {
      id ??= `c${this.#next++}`;
      this.#ids.set(value, id);
      entry = {
        target: value,
        methods: typeof value === "function" ? new Set() : callableMethods(value),
        users: 0,
      };
      this.#registered.set(id, entry);
    }
    entry.users++;
    this.#fresh.push(id as string);
    return { id: id as string, owner: RefOwner.REF_OWNER_CLIENT, methods: [...entry.methods] };
  }

  fromRef(ref: ObjectRef): unknown {
    if (ref.owner === RefOwner.REF_OWNER_NODE) return this.#makeProxy(ref);
    const entry = this.#registered.get(ref.id);
    if (!entry) throw new ServerError(Code.NOT_FOUND, `callback ${ref.id} is no longer held by this client`);
    return entry.target;
  }

  /** Callback ids the last encoded call registered; they live until release(). */
  take(): string[] {
    const ids = this.#fresh;
    this.#fresh = [];
    return ids;
  }

  /** A call that passed these callbacks ended. */
  release(ids: readonly string[]): void {
    for (const id of ids) {
      const entry = this.#registered.get(id);
      if (entry && --entry.users <= 0) this.#registered.delete(id);
    }
  }

  /** Runs a callback the node asked for and says how it went, in its span when tracing. */
  async run(callback: Callback): Promise<CallbackResult> {
    const span = incomingSpan(callback.traceparent, "callback", callback.method || "call");
    const result = await inSpan(span, () => this.#run(callback));
    span?.end(result.error?.code ?? Code.OK, result.error?.message);
    return result;
  }

  async #run(callback: Callback): Promise<CallbackResult> {
    try {
      const entry = this.#registered.get(callback.refId);
      if (!entry) {
        throw new ServerError(
          Code.NOT_FOUND,
          `callback ${callback.refId} ended with the call that passed it`,
        );
      }
      const args = decodeArgs(callback.args, new ListPath("callback args"), this);
      let result: unknown;
      if (callback.method === "") {
        if (typeof entry.target !== "function")
          throw new ServerError(Code.UNIMPLEMENTED, "callback is not a function");
        result = await (entry.target as (...a: unknown[]) => unknown)(...args);
      } else {
        if (!entry.methods.has(callback.method)) {
          throw new ServerError(
            Code.UNIMPLEMENTED,
            `callback object has no method ${callback.method}; methods: ${[...entry.methods].join(", ")}`,
          );
        }
        const target = entry.target as Record<string, (...a: unknown[]) => unknown>;
        result = await (target[callback.method] as (...a: unknown[]) => unknown).apply(target, args);
      }
      const value = toValue(result, "callback result", this);
      this.take();
      return { id: callback.id, value, error: undefined };
    } catch (err) {
      // The callback's own words go back; its stack stays here.
      return { id: callback.id, value: undefined, error: toCallError(err) };
    }
  }
}
