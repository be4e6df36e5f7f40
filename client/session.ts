import type { Client, ClientDuplexStream, Metadata } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import {
  ClientMessage,
  type MethodDescription,
  ObjectsService,
  type ServerMessage,
  type SessionResponse,
} from "../src/gen/ferry/v1/objects.js";
import { SessionWire, writeFrame } from "../src/session-wire.js";
import { outgoingSpan } from "../src/trace-context.js";
import { fromValue } from "../src/value-codec.js";
import { ListPath, toValues } from "../src/value-lists.js";
import { watchAbort } from "./abort-watch.js";
import { buildMetadata } from "./build-metadata.js";
import type { ClientRefs } from "./client-refs.js";
import { RemoteError, toRemoteError } from "./remote-error.js";
import {
  type BatchPart,
  type BatchSink,
  batchCallSink,
  type CallControl,
  type CallSink,
  type CallTarget,
  type SessionCallOptions,
  STREAM_WINDOW_ITEMS,
  tracedSink,
} from "./session-call.js";
import { SessionDescribe } from "./session-describe.js";
import { SessionHolds } from "./session-holds.js";
import { callError, decodeOutcomes, encodeCalls, replaceTooLarge, sessionLost } from "./session-values.js";

interface Pending {
  sink: CallSink;
  timer: NodeJS.Timeout;
  cleanup: () => void;
  /** Callbacks this call passed; they end with it. */
  callbacks: string[];
  /** The call's stream window (0: none) and items taken that the node has not been told of. */
  window: number;
  untold: number;
}

const SESSION = ObjectsService.session;

/**
 * Largest message a node takes by default (its maxMessageBytes), and a
 * connection's unless told otherwise: a call whose arguments are larger
 * fails alone instead of breaking the session.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * One bidirectional stream to a node that carries every proxy's calls.
 * Messages issued in the same tick leave as one frame; results come back
 * batched the same way. The stream opens on the first call; when it breaks,
 * pending calls fail with UNAVAILABLE and the next call opens a new one.
 */
export class ClientSession {
  readonly #client: Client;
  readonly #target: string;
  #stream: ClientDuplexStream<Buffer, SessionResponse> | undefined;
  #generation = 0;
  #nextId = 1n;
  readonly #pending = new Map<bigint, Pending>();
  readonly #wire: SessionWire<ClientMessage>;
  #closed = false;
  readonly #refs: ClientRefs;
  readonly #describe: SessionDescribe;
  /** What the node holds for this session, and when an idle stream ends. */
  readonly #holds: SessionHolds;
  readonly #metadata: () => Metadata;

  /**
   * `refs` makes this session's reference table (it needs the session to
   * build proxies); `metadata` the headers of its stream and Describe calls;
   * `maxMessageBytes` the largest message it sends (the connection's limit).
   */
  constructor(
    client: Client,
    target: string,
    refs: (session: ClientSession) => ClientRefs,
    metadata: () => Metadata = buildMetadata,
    maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {
    this.#client = client;
    this.#target = target;
    this.#refs = refs(this);
    this.#metadata = metadata;
    this.#describe = new SessionDescribe(client, metadata, (name, mode) => this.#holds.described(name, mode));
    this.#wire = new SessionWire<ClientMessage>({
      encode: (message) => ClientMessage.encode(message).finish(),
      maxMessageBytes,
      tooLarge: (message, bytes) =>
        replaceTooLarge(message, bytes, maxMessageBytes, (id, error) => this.#settle(id)?.fail(error)),
      write: (frame) => this.#stream?.write(frame) ?? true,
      schedule: queueMicrotask,
    });
    this.#holds = new SessionHolds(
      () => !this.#stream || this.#pending.size > 0,
      () => {
        const stream = this.#stream;
        this.#stream = undefined;
        stream?.end();
      },
    );
  }

  /** The methods of exposed object `name`, asked once per session and remembered. */
  describe(name: string, timeoutMs: number): Promise<MethodDescription[]> {
    return this.#describe.methods(name, timeoutMs);
  }

  /** Sessions opened so far; a change means session-mode objects were dropped. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Starts `object.method(...args)`. The sink hears a value or stream items
   * then an end, or one failure. A stream sends at most the call's window of
   * items beyond those the caller reports taken with `took`.
   */
  call(
    target: CallTarget,
    method: string,
    args: unknown[],
    options: SessionCallOptions,
    sink: CallSink,
  ): CallControl {
    const streamWindow = options.oneway ? 0 : (options.streamWindow ?? STREAM_WINDOW_ITEMS);
    return this.#issue(
      target,
      method,
      () => toValues(args, new ListPath("args"), this.#refs),
      (id, encoded, timeoutMs, traceparent) => ({
        call: {
          id,
          ...target,
          method,
          args: encoded,
          timeoutMs,
          oneway: options.oneway === true,
          streamWindow,
          traceparent,
        },
      }),
      options,
      sink,
      streamWindow,
    );
  }

  /**
   * Starts one batch: `method` called once per argument list on the node, all
   * under one id and one deadline. The sink hears every entry's outcome (as
   * each ends, with `streamOutcomes`), or one failure of the whole batch.
   * Returns a function that cancels it.
   */
  batch(
    target: CallTarget,
    method: string,
    calls: unknown[][],
    options: SessionCallOptions,
    sink: BatchSink,
  ): () => void {
    return this.#issue(
      target,
      method,
      () => encodeCalls(calls, this.#refs),
      (id, encoded, timeoutMs, traceparent) => ({
        batch: {
          id,
          ...target,
          method,
          calls: encoded,
          timeoutMs,
          traceparent,
          streamOutcomes: options.streamOutcomes === true,
        },
      }),
      { timeoutMs: options.timeoutMs, signal: options.signal },
      batchCallSink(sink),
      0,
      calls.length,
    ).cancel;
  }

  #issue<E>(
    target: CallTarget,
    method: string,
    encode: () => E,
    message: (id: bigint, encoded: E, timeoutMs: number, traceparent: string) => ClientMessage,
    options: SessionCallOptions,
    untraced: CallSink,
    window: number,
    entries?: number,
  ): CallControl {
    const object = "object" in target ? target.object : target.refId;
    if (this.#closed) {
      untraced.fail(new RemoteError(Code.CANCELLED, `connection to ${this.#target} is closed`));
      return NO_CALL;
    }
    let encoded: E;
    let callbacks: string[];
    try {
      encoded = encode();
      callbacks = this.#refs.take();
    } catch (err) {
      this.#refs.release(this.#refs.take());
      untraced.fail(toRemoteError(err));
      return NO_CALL;
    }
    const signal = options.signal;
    if (signal?.aborted) {
      this.#refs.release(callbacks);
      untraced.fail(toRemoteError(signal.reason, signal));
      return NO_CALL;
    }
    this.#ensureOpen();
    this.#holds.calling(target);
    const span = outgoingSpan(object, method, entries);
    const sink = span ? tracedSink(untraced, span) : untraced;
    const id = this.#nextId++;
    const cancel = (error: RemoteError) => {
      if (!this.#pending.has(id)) return;
      this.#settle(id)?.fail(error);
      this.#send({ cancel: { id } });
    };
    const onAbort = () => cancel(toRemoteError(signal?.reason, signal));
    const timer = setTimeout(
      () =>
        cancel(
          new RemoteError(
            Code.DEADLINE_EXCEEDED,
            `${object}.${method}: deadline of ${options.timeoutMs} ms exceeded (raise timeoutMs, or --timeout)`,
          ),
        ),
      options.timeoutMs,
    );
    const cleanup = signal ? watchAbort(signal, onAbort) : () => {};
    this.#send(
      message(id, encoded, Math.min(Math.ceil(options.timeoutMs), 0xffffffff), span?.traceparent ?? ""),
    );
    if (options.oneway) {
      clearTimeout(timer);
      cleanup();
      queueMicrotask(() => {
        sink.value(undefined);
        this.#holds.check();
      });
      return NO_CALL;
    }
    this.#pending.set(id, { sink, timer, cleanup, callbacks, window, untold: 0 });
    return {
      cancel: () => cancel(new RemoteError(Code.CANCELLED, `${object}.${method} was cancelled`)),
      took: (items) => this.#took(id, items),
    };
  }

  /**
   * Tells the node, a quarter window at a time, that the caller has taken
   * stream items, so that it sends more: one More per 256 items by default,
   * riding in the frames that carry everything else.
   */
  #took(id: bigint, items: number): void {
    const pending = this.#pending.get(id);
    if (!pending || pending.window === 0) return;
    pending.untold += items;
    if (pending.untold * 4 < pending.window) return;
    this.#send({ more: { id, items: pending.untold } });
    pending.untold = 0;
  }

  /** Drops objects the node holds for this session: session-mode objects by name, references by id. */
  release(names: string[]): void {
    if (this.#stream && !this.#closed) this.#send({ release: { refIds: names } });
    this.#holds.released(names);
  }

  /** Notes an object the node handed out by reference: the session holds it until it is released. */
  holds(refId: string): void {
    this.#holds.holds(refId);
  }

  /** Ends the session; pending calls fail with CANCELLED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#holds.cancel();
    this.#failAll(new RemoteError(Code.CANCELLED, `connection to ${this.#target} was closed`));
    this.#stream?.end();
    this.#stream = undefined;
  }

  #ensureOpen(): void {
    this.#holds.cancel();
    if (this.#stream) return;
    this.#generation++;
    const stream = this.#client.makeBidiStreamRequest(
      SESSION.path,
      writeFrame,
      SESSION.responseDeserialize,
      this.#metadata(),
      {},
    );
    this.#stream = stream;
    stream.on("data", (frame: SessionResponse) => {
      for (const message of frame.messages) this.#receive(message);
    });
    const broken = (err?: unknown) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#holds.lost();
      this.#failAll(sessionLost(err, this.#target));
    };
    stream.on("error", broken);
    stream.on("end", () => broken());
  }

  #receive(message: ServerMessage): void {
    if (message.result) {
      const { id, value, error } = message.result;
      const sink = this.#settle(id);
      if (!sink) return;
      if (error) sink.fail(callError(error));
      else this.#deliver(sink, () => sink.value(fromValue(value, "result", this.#refs)));
    } else if (message.item) {
      const pending = this.#pending.get(message.item.id);
      const value = message.item.value;
      if (pending) this.#deliver(pending.sink, () => pending.sink.item(fromValue(value, "item", this.#refs)));
    } else if (message.end) {
      const { id, error } = message.end;
      const sink = this.#settle(id);
      if (!sink) return;
      if (error) sink.fail(callError(error));
      else sink.end();
    } else if (message.batchResult) {
      const { id, outcomes, error, indexes, partial } = message.batchResult;
      const part = (): BatchPart => ({ outcomes: decodeOutcomes(outcomes, indexes, this.#refs), indexes });
      if (partial) {
        const pending = this.#pending.get(id);
        if (pending) this.#deliver(pending.sink, () => pending.sink.item(part()));
        return;
      }
      const sink = this.#settle(id);
      if (!sink) return;
      if (error) sink.fail(callError(error));
      else this.#deliver(sink, () => sink.value(part()));
    } else if (message.callback) {
      void this.#refs.run(message.callback).then((callbackResult) => this.#send({ callbackResult }));
    }
  }

  /** Runs a delivery; a value that cannot be decoded fails the call instead. */
  #deliver(sink: CallSink, deliver: () => void): void {
    try {
      deliver();
    } catch (err) {
      sink.fail(toRemoteError(err));
    }
  }

  #settle(id: bigint): CallSink | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    if (this.#pending.size === 0) queueMicrotask(() => this.#holds.check());
    clearTimeout(pending.timer);
    pending.cleanup();
    this.#refs.release(pending.callbacks);
    return pending.sink;
  }

  #failAll(error: RemoteError): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.fail(error);
  }

  /** Queues a message; all messages of this tick leave together, in frames packed by size. */
  #send(message: ClientMessage): void {
    this.#wire.send(message);
  }
}

/** The control of a call that never started, or that has no answer to wait for. */
const NO_CALL: CallControl = { cancel: () => {}, took: () => {} };
