import { framedSize, packFrames } from "./frames.js";

/**
 * Room kept below a peer's limit, so that a frame of one message is within it
 * whatever the peer counts: grpc-js counts the frame's body, and an
 * implementation that also counted gRPC's 5-byte message prefix would still
 * take it.
 */
const MESSAGE_SLACK = 16;

/** Whether a message of `bytes` fits in a frame of its own under a peer's `maxMessageBytes`. */
export function fitsInMessage(bytes: number, maxMessageBytes: number): boolean {
  return framedSize(bytes) + MESSAGE_SLACK <= maxMessageBytes;
}

/** A session stream's serializer: frames are packed here already and are written as they are. */
export function writeFrame(frame: Buffer): Buffer {
  return frame;
}

/** How one side of a session puts its messages on the wire. */
export interface SessionWireOptions<M> {
  /** A message's bytes. */
  encode(message: M): Uint8Array;
  /** The largest message the stream may carry. */
  maxMessageBytes: number;
  /**
   * What goes in place of a message, encoded as `bytes`, that no frame may
   * carry: an error for its call, nothing (undefined), or `bytes` after all.
   */
  tooLarge(message: M, bytes: Uint8Array): Uint8Array | undefined;
  /** Writes one frame; false when the stream takes no more for now. */
  write(frame: Buffer): boolean;
  /** Runs `flush` once what this turn queues is in (a microtask, or the next turn of the event loop). */
  schedule(flush: () => void): void;
  /** After each flush, with whether the stream takes more. */
  flushed?(writable: boolean): void;
}

/**
 * The session wire, the same for client and node: messages queued together
 * leave together, each encoded once, packed into frames by size
 * (src/frames.ts) and written as they are. A message no frame may carry never
 * reaches the stream, since that would end the session with every call in
 * it: `tooLarge` answers for it instead.
 */
export class SessionWire<M> {
  readonly #options: SessionWireOptions<M>;
  #messages: M[] = [];
  #flushing = false;
  #closed = false;

  constructor(options: SessionWireOptions<M>) {
    this.#options = options;
  }

  /** Messages waiting for the next flush. */
  get queued(): number {
    return this.#messages.length;
  }

  /** Whether nothing waits to be written. */
  get empty(): boolean {
    return this.#messages.length === 0 && !this.#flushing;
  }

  send(message: M): void {
    if (this.#closed) return;
    this.#messages.push(message);
    if (this.#flushing) return;
    this.#flushing = true;
    this.#options.schedule(() => this.#flush());
  }

  /** Drops what is queued and sends nothing more. */
  close(): void {
    this.#closed = true;
    this.#messages = [];
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#closed || this.#messages.length === 0) return;
    const { encode, maxMessageBytes, tooLarge, write, flushed } = this.#options;
    const messages = this.#messages;
    this.#messages = [];
    const encoded: Uint8Array[] = [];
    for (const message of messages) {
      const bytes = encode(message);
      if (fitsInMessage(bytes.length, maxMessageBytes)) encoded.push(bytes);
      else {
        const instead = tooLarge(message, bytes);
        if (instead) encoded.push(instead);
      }
    }
    let writable = true;
    for (const frame of packFrames(encoded)) writable = write(frame);
    flushed?.(writable);
  }
}
