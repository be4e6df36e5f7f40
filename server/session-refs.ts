import { Code } from "../src/code.js";
import type { CallbackResult, ServerMessage } from "../src/gen/ferry/v1/objects.js";
import { type ObjectRef, RefOwner } from "../src/gen/ferry/v1/value.js";
import { ServerError } from "../src/server-error.js";
import { outgoingSpan } from "../src/trace-context.js";
import { fromValue, type RefCodec } from "../src/value-codec.js";
import { ListPath, toValues } from "../src/value-lists.js";
import { type CallContext, currentCall } from "./call-context.js";
import { type ExposedMethod, unknownMethod } from "./exposure.js";
import type { BoundCall, ObjectHost } from "./object-host.js";
import { referenceMethods } from "./references.js";

interface Held {
  self: object;
  name: string;
  methods: Map<string, ExposedMethod>;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Stand-ins of client callbacks, so one handed back to the client travels as the client's own ref. */
const clientRefs = new WeakMap<object, ObjectRef>();

/**
 * The references of one session, node side: objects the node handed out by
 * reference (kept until released or the session ends) and the client's
 * callbacks, which the node calls back over the same stream.
 */
export class SessionRefs implements RefCodec {
  readonly #host: ObjectHost;
  readonly #send: (message: ServerMessage) => void;
  readonly #maxRefs: number;
  readonly #held = new Map<string, Held>();
  readonly #ids = new WeakMap<object, string>();
  readonly #waiting = new Map<bigint, Waiting>();
  #nextRef = 1;
  #nextCallback = 1n;
  #closed = false;

  constructor(host: ObjectHost, send: (message: ServerMessage) => void, maxRefs: number) {
    this.#host = host;
    this.#send = send;
    this.#maxRefs = maxRefs;
  }

  /** Objects held for the client right now. */
  get size(): number {
    return this.#held.size;
  }

  toRef(value: object): ObjectRef | undefined {
    const own = clientRefs.get(value);
    if (own) return own;
    if (typeof value === "function") return undefined;
    const proto = Object.getPrototypeOf(value) as unknown;
    const plain = proto === Object.prototype || proto === null;
    const methods = referenceMethods(value) ?? (plain ? undefined : this.#host.classOf(value)?.methods);
    if (!methods) return undefined;
    let id = this.#ids.get(value);
    if (!id || !this.#held.has(id)) {
      if (this.#held.size >= this.#maxRefs) {
        throw new ServerError(
          Code.RESOURCE_EXHAUSTED,
          `session holds ${this.#maxRefs} objects for its client, its limit; release some proxies`,
        );
      }
      id ??= `r${this.#nextRef++}`;
      this.#ids.set(value, id);
      this.#held.set(id, { self: value, name: value.constructor?.name ?? "object", methods });
    }
    return { id, owner: RefOwner.REF_OWNER_NODE, methods: [...methods.keys()] };
  }

  fromRef(ref: ObjectRef): unknown {
    if (ref.owner === RefOwner.REF_OWNER_NODE) {
      const held = this.#held.get(ref.id);
      if (!held) throw released(ref.id);
      return held.self;
    }
    if (ref.owner !== RefOwner.REF_OWNER_CLIENT) {
      throw new ServerError(Code.INVALID_ARGUMENT, `ref ${ref.id} has no owner`, { field: "ref" });
    }
    if (ref.methods.length === 0) {
      const fn = (...args: unknown[]) => this.#callBack(ref.id, "", args);
      clientRefs.set(fn, ref);
      return fn;
    }
    const stand = Object.create(null) as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of ref.methods)
      stand[method] = (...args: unknown[]) => this.#callBack(ref.id, method, args);
    clientRefs.set(stand, ref);
    return Object.freeze(stand);
  }

  /** The held object `refId` and its method, for a call by reference. */
  resolve(refId: string, method: string): BoundCall {
    const held = this.#held.get(refId);
    if (!held) throw released(refId);
    const exposed = held.methods.get(method);
    if (!exposed) throw unknownMethod(`${held.name} ${refId}`, method, held.methods.keys());
    const fn = (held.self as Record<string, (...args: unknown[]) => unknown>)[method] as (
      ...args: unknown[]
    ) => unknown;
    return { where: "here", object: `${held.name} ${refId}`, method: exposed, self: held.self, fn };
  }

  release(ids: readonly string[]): void {
    for (const id of ids) this.#held.delete(id);
  }

  /** The client answered a callback. */
  answer(result: CallbackResult): void {
    const waiting = this.#waiting.get(result.id);
    if (!waiting) return;
    this.#waiting.delete(result.id);
    if (result.error) {
      waiting.reject(new ServerError(result.error.code, `callback failed: ${result.error.message}`));
      return;
    }
    try {
      waiting.resolve(fromValue(result.value, "callback result", this));
    } catch (err) {
      waiting.reject(err);
    }
  }

  /** Drops everything: the session ended. */
  close(): void {
    this.#closed = true;
    this.#held.clear();
    for (const waiting of this.#waiting.values())
      waiting.reject(new ServerError(Code.CANCELLED, "the session ended"));
    this.#waiting.clear();
  }

  #callBack(refId: string, method: string, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ServerError(Code.CANCELLED, "the session ended"));
    const id = this.#nextCallback++;
    return new Promise((resolve, reject) => {
      const encoded = toValues(args, new ListPath("callback args"), this);
      let call: CallContext | undefined;
      try {
        call = currentCall();
      } catch {
        call = undefined;
      }
      const signal = call?.signal;
      // The callback's own span when tracing; else the caller's trace, carried on.
      const span = outgoingSpan("callback", method || "call");
      const traceparent = span?.traceparent ?? call?.traceparent ?? "";
      const onAbort = () => {
        this.#waiting.delete(id);
        span?.end(Code.CANCELLED);
        reject(signal?.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      this.#waiting.set(id, {
        resolve: (v) => {
          done();
          span?.end(Code.OK);
          resolve(v);
        },
        reject: (e) => {
          done();
          span?.end((e as { code?: number }).code ?? Code.UNKNOWN);
          reject(e);
        },
      });
      this.#send({ callback: { id, refId, method, args: encoded, traceparent } });
    });
  }
}

function released(refId: string): ServerError {
  return new ServerError(Code.NOT_FOUND, `object ${refId} was released or never existed in this session`, {
    field: "ref_id",
  });
}
