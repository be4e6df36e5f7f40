import { Code } from "../../src/code.js";
import { ServerError } from "../../src/server-error.js";
import { type RefCodec, refusal } from "../../src/value-codec.js";
import type { CallContext } from "../call-context.js";
import type { ExposedMethod } from "../exposure.js";
import { EncodedMessage } from "../session-outbox.js";
import type { WorkerPool } from "./worker-pool.js";
import type { CallTask, PackedArgs, WorkerInstance } from "./worker-task.js";
import type { WorkerThread } from "./worker-thread.js";

/** Stream items a worker sends ahead of the session taking them. */
const STREAM_AHEAD = 64;

/**
 * One instance of a worker-run class that keeps its state: a session's
 * instance, or a "single" class's one instance. It is made in one thread
 * (the least loaded) at its first call, and every call on it runs there, in
 * order.
 */
export class Actor {
  readonly id: number;
  /** The node's one instance of a "single" class: made again if its thread dies. */
  readonly shared: boolean;
  thread: WorkerThread | undefined;

  constructor(id: number, shared: boolean) {
    this.id = id;
    this.shared = shared;
  }
}

/** Where a worker-run object's calls go. */
export interface WorkerTarget {
  /** file: URL of its module. */
  module: string;
  exportName: string;
  /** The export itself (a plain object), a new instance per call, or an actor. */
  instance: "export" | "percall" | Actor;
}

/** A call of an exposed method that runs in the node's worker threads. */
export interface WorkerCall {
  where: "workers";
  object: string;
  method: ExposedMethod;
  target: WorkerTarget;
}

/**
 * The main thread's side of the objects that run in worker threads: calls,
 * batches and streams become pool tasks, and what comes back is already the
 * session's encoded answer.
 */
export class WorkerObjects {
  readonly #pool: WorkerPool;
  #nextActor = 1;

  constructor(pool: WorkerPool) {
    this.#pool = pool;
  }

  /** A new actor, placed at its first call. */
  actor(shared: boolean): Actor {
    return new Actor(this.#nextActor++, shared);
  }

  /** Drops an actor's instance from its thread. */
  release(actor: Actor): void {
    if (actor.thread) this.#pool.dropActor(actor.thread, actor.id);
    actor.thread = undefined;
  }

  /** One call; resolves with its encoded Result (id `id`), the items as one list for `collect`. */
  async call(
    call: WorkerCall,
    args: unknown[],
    context: CallContext,
    id: bigint,
    answer: "result" | "collect",
  ): Promise<Uint8Array> {
    const task = this.#task(call, { kind: "one", args }, context, id, answer);
    return (await this.#pool.call(task, context.signal, this.#pin(call))) as Uint8Array;
  }

  /**
   * Every entry of a batch as one task; resolves with its last encoded
   * BatchResult and the codes of its entries that failed. With `partial`,
   * the entries' outcomes come as they end: each partial BatchResult,
   * encoded, goes to `partial` first.
   */
  batch(
    call: WorkerCall,
    args: PackedArgs,
    context: CallContext,
    id: bigint,
    partial?: (bytes: Uint8Array) => void,
  ): Promise<{ bytes: Uint8Array; failed: number[] }> {
    const task = this.#task(call, args, context, id, partial ? "outcomes" : "batch");
    return this.#pool.batch(task, context.signal, this.#pin(call), partial);
  }

  /**
   * A streaming call: the encoded items as the method yields them. The worker
   * runs at most {@link STREAM_AHEAD} items ahead of the loop over them;
   * leaving the loop early stops the method.
   */
  stream(call: WorkerCall, args: unknown[], context: CallContext, id: bigint): AsyncIterable<EncodedMessage> {
    const task = { ...this.#task(call, { kind: "one", args }, context, id, "stream"), window: STREAM_AHEAD };
    const pin = this.#pin(call);
    const pool = this.#pool;
    return {
      async *[Symbol.asyncIterator]() {
        const items: Uint8Array[] = [];
        let ended = false;
        let failure: unknown;
        let wake: (() => void) | undefined;
        const wakeUp = () => {
          const w = wake;
          wake = undefined;
          w?.();
        };
        const local = new AbortController();
        const running = pool.stream(task, AbortSignal.any([context.signal, local.signal]), pin, (bytes) => {
          items.push(bytes);
          wakeUp();
        });
        running.done.then(
          () => {
            ended = true;
            wakeUp();
          },
          (err: unknown) => {
            failure = err;
            wakeUp();
          },
        );
        let taken = 0;
        try {
          for (;;) {
            const item = items.shift();
            if (item) {
              yield new EncodedMessage(item, id, "item");
              if (++taken >= STREAM_AHEAD / 2) {
                running.more(taken);
                taken = 0;
              }
              continue;
            }
            if (failure !== undefined) throw failure;
            if (ended) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          if (!ended) local.abort(new ServerError(Code.CANCELLED, "the stream's reader went away"));
        }
      },
    };
  }

  #pin(call: WorkerCall): WorkerThread | undefined {
    const { instance } = call.target;
    if (!(instance instanceof Actor)) return undefined;
    if (instance.thread?.state === "gone" && instance.shared) instance.thread = undefined;
    instance.thread ??= this.#pool.placeActor();
    return instance.thread;
  }

  #task(
    call: WorkerCall,
    args: PackedArgs,
    context: CallContext,
    id: bigint,
    answer: CallTask["answer"],
  ): CallTask {
    const { instance } = call.target;
    const worker: WorkerInstance =
      instance instanceof Actor ? { kind: "actor", id: instance.id } : { kind: instance };
    return {
      kind: "call",
      module: call.target.module,
      exportName: call.target.exportName,
      label: `${call.object}.${call.method.name}`,
      method: call.method.name,
      instance: worker,
      args,
      answer,
      id,
      window: 0,
      deadline: context.deadline,
      sessionId: context.sessionId,
      peer: context.peer,
      traceparent: context.traceparent,
    };
  }
}

/**
 * How arguments for a worker-run method are decoded: a callback or an object
 * held by reference lives on the main thread and cannot follow the call into
 * a worker, so it is refused, naming the method, rather than copied.
 */
export function workerArgRefs(label: string): RefCodec {
  return {
    toRef: () => undefined,
    fromRef() {
      throw refusal(
        Code.FAILED_PRECONDITION,
        `${label} runs in worker threads, where a callback or an object held by reference cannot follow it; pass plain data, or expose the object with run: "main"`,
      );
    },
  };
}

/**
 * A batch's argument lists for a worker: one flat list when every entry
 * takes the same number of arguments (much cheaper to clone than thousands
 * of small lists).
 */
export function packArgs(entries: readonly unknown[][]): PackedArgs {
  const arity = entries[0]?.length ?? 0;
  for (const entry of entries) if (entry.length !== arity) return { kind: "nested", entries: [...entries] };
  const args = new Array<unknown>(entries.length * arity);
  let k = 0;
  for (const entry of entries) for (const arg of entry) args[k++] = arg;
  return { kind: "flat", arity, count: entries.length, args };
}
