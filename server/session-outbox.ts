import type { ServerDuplexStream } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import { framedSize, packFrames } from "../src/frames.js";
import { type CallError, ServerMessage, type SessionResponse } from "../src/gen/ferry/v1/objects.js";

/**
 * A ServerMessage encoded elsewhere (a worker thread encodes its calls'
 * answers): sent as it is. `id` and `kind` say which call's answer it is, so
 * one too large to send is replaced by an error for that call.
 */
export class EncodedMessage {
  constructor(
    readonly bytes: Uint8Array,
    readonly id: bigint,
    readonly kind: "result" | "item" | "batchResult",
  ) {}
}

/**
 * What a session sends: messages queued in one turn of the event loop leave
 * together, packed into frames by size. While the connection takes no more,
 * `drain` is set and the client's frames are not read (HTTP/2 flow control
 * then holds its writes).
 */
export class SessionOutbox {
  readonly #call: ServerDuplexStream<unknown, SessionResponse>;
  readonly #maxMessageBytes: number;
  readonly #onFlushed: () => void;
  #messages: (ServerMessage | EncodedMessage)[] = [];
  #flushing = false;
  #closed = false;
  #drain: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** `onFlushed` runs after each frame has been written. */
  constructor(
    call: ServerDuplexStream<unknown, SessionResponse>,
    maxMessageBytes: number,
    onFlushed: () => void,
  ) {
    this.#call = call;
    this.#maxMessageBytes = maxMessageBytes;
    this.#onFlushed = onFlushed;
  }

  /** Messages waiting for the next flush. */
  get queued(): number {
    return this.#messages.length;
  }

  /** Whether nothing waits to be written. */
  get empty(): boolean {
    return this.#messages.length === 0 && !this.#flushing;
  }

  /** Set while the connection takes no more; resolves when it does again. */
  get drain(): Promise<void> | undefined {
    return this.#drain;
  }

  send(message: ServerMessage | EncodedMessage): void {
    if (this.#closed) return;
    this.#messages.push(message);
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Drops what is queued; streams waiting for the connection go on and see the session closed. */
  close(): void {
    this.#closed = true;
    this.#messages = [];
    this.#endDrain();
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#closed || this.#messages.length === 0) return;
    const messages = this.#messages;
    this.#messages = [];
    const encoded = messages.map((message) => this.#encode(message));
    let writable = true;
    // Pre-packed frames: the stream's serializer writes them as they are.
    for (const frame of packFrames(encoded)) writable = this.#call.write(frame as unknown as SessionResponse);
    if (!writable && !this.#drain) {
      // The client is not reading: stop reading its frames too, so that it
      // cannot keep starting calls whose answers would queue here.
      this.#call.pause();
      this.#drain = new Promise((resolve) => {
        this.#drained = resolve;
      });
      this.#call.once("drain", () => this.#endDrain());
    }
    this.#onFlushed();
  }

  /**
   * A message's bytes; one too large to send (a huge result) is replaced by
   * RESOURCE_EXHAUSTED for its call, so the session and its other calls go on.
   */
  #encode(message: ServerMessage | EncodedMessage): Uint8Array {
    const bytes = message instanceof EncodedMessage ? message.bytes : ServerMessage.encode(message).finish();
    if (framedSize(bytes.length) + 16 <= this.#maxMessageBytes) return bytes;
    const error: CallError = {
      code: Code.RESOURCE_EXHAUSTED,
      message: `the answer is ${bytes.length} bytes, more than the node's maxMessageBytes (${this.#maxMessageBytes})`,
      detail: undefined,
    };
    let id: bigint | undefined;
    let kind: EncodedMessage["kind"] | "end";
    if (message instanceof EncodedMessage) ({ id, kind } = message);
    else {
      id = message.result?.id ?? message.item?.id ?? message.end?.id ?? message.batchResult?.id;
      kind = message.result ? "result" : message.batchResult ? "batchResult" : "end";
    }
    if (id === undefined) return bytes;
    const replacement: ServerMessage =
      kind === "result"
        ? { result: { id, error } }
        : kind === "batchResult"
          ? { batchResult: { id, outcomes: [], error } }
          : { end: { id, error } };
    return ServerMessage.encode(replacement).finish();
  }

  #endDrain(): void {
    const drained = this.#drained;
    this.#drain = undefined;
    this.#drained = undefined;
    if (!this.#closed) this.#call.resume();
    drained?.();
  }
}
