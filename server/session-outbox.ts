import type { ServerDuplexStream } from "@grpc/grpc-js";
import { tooLargeError } from "../src/call-error.js";
import { ServerMessage } from "../src/gen/ferry/v1/objects.js";
import { SessionWire } from "../src/session-wire.js";

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

type Outgoing = ServerMessage | EncodedMessage;

/**
 * What a session sends, on the session wire (src/session-wire.ts): messages
 * queued in one turn of the event loop leave together. While the connection
 * takes no more, `drain` is set and the client's frames are not read (HTTP/2
 * flow control then holds its writes).
 */
export class SessionOutbox {
  readonly #call: ServerDuplexStream<unknown, Buffer>;
  readonly #wire: SessionWire<Outgoing>;
  #closed = false;
  #drain: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** `onFlushed` runs after each frame has been written. */
  constructor(call: ServerDuplexStream<unknown, Buffer>, maxMessageBytes: number, onFlushed: () => void) {
    this.#call = call;
    this.#wire = new SessionWire<Outgoing>({
      encode: (message) =>
        message instanceof EncodedMessage ? message.bytes : ServerMessage.encode(message).finish(),
      maxMessageBytes,
      tooLarge: (message, bytes) => answerTooLarge(message, bytes, maxMessageBytes),
      write: (frame) => call.write(frame),
      schedule: (flush) => setImmediate(flush),
      flushed: (writable) => {
        if (!writable) this.#holdInput();
        onFlushed();
      },
    });
  }

  /** Messages waiting for the next flush. */
  get queued(): number {
    return this.#wire.queued;
  }

  /** Whether nothing waits to be written. */
  get empty(): boolean {
    return this.#wire.empty;
  }

  /** Set while the connection takes no more; resolves when it does again. */
  get drain(): Promise<void> | undefined {
    return this.#drain;
  }

  send(message: Outgoing): void {
    this.#wire.send(message);
  }

  /** Drops what is queued; streams waiting for the connection go on and see the session closed. */
  close(): void {
    this.#closed = true;
    this.#wire.close();
    this.#endDrain();
  }

  /**
   * The client is not reading: stop reading its frames too, so that it cannot
   * keep starting calls whose answers would queue here.
   */
  #holdInput(): void {
    if (this.#drain) return;
    this.#call.pause();
    this.#drain = new Promise((resolve) => {
      this.#drained = resolve;
    });
    this.#call.once("drain", () => this.#endDrain());
  }

  #endDrain(): void {
    const drained = this.#drained;
    this.#drain = undefined;
    this.#drained = undefined;
    if (!this.#closed) this.#call.resume();
    drained?.();
  }
}

/**
 * RESOURCE_EXHAUSTED for the call whose answer (a huge result) is too large
 * to send, in the answer's place, so the session and its other calls go on.
 */
function answerTooLarge(message: Outgoing, encoded: Uint8Array, maxMessageBytes: number): Uint8Array {
  let id: bigint | undefined;
  let kind: EncodedMessage["kind"] | "end";
  if (message instanceof EncodedMessage) ({ id, kind } = message);
  else {
    id = message.result?.id ?? message.item?.id ?? message.end?.id ?? message.batchResult?.id;
    kind = message.result ? "result" : message.batchResult ? "batchResult" : "end";
  }
  if (id === undefined) return encoded;
  const what =
    kind === "batchResult" ? "the batch's answer" : kind === "result" ? "the answer" : "a stream item";
  const error = tooLargeError(
    what,
    encoded.length,
    maxMessageBytes,
    "return less per call, or stream it in pieces",
  );
  const replacement: ServerMessage =
    kind === "result"
      ? { result: { id, error } }
      : kind === "batchResult"
        ? { batchResult: { id, outcomes: [], error, indexes: [], partial: false } }
        : { end: { id, error } };
  return ServerMessage.encode(replacement).finish();
}
