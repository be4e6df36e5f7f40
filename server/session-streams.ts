import { Code } from "../src/code.js";
import type { Call, CallError, ServerMessage } from "../src/gen/ferry/v1/objects.js";
import type { Cancellation } from "./cancellation.js";
import { EncodedMessage, type SessionOutbox } from "./session-outbox.js";

/**
 * Messages queued for a session's connection past which a streaming method
 * waits for them to leave: a method that yields without ever waiting (an
 * async generator of numbers) would otherwise queue its whole stream before
 * the first frame is written.
 */
export const MAX_QUEUED_MESSAGES = 1024;

/** Stream items a call's caller will still take (its stream window), and who waits for more. */
interface Credit {
  left: number;
  wake: (() => void) | undefined;
}

/** What a session's streams need of it. */
export interface StreamSession {
  readonly outbox: SessionOutbox;
  /** Whether the session has ended. */
  closed(): boolean;
  /** The message carrying one item of call `id`. */
  item(id: bigint, value: unknown): ServerMessage;
  callError(path: string, err: unknown): CallError;
}

/**
 * The streaming calls of one session: each method's items go out as it
 * yields them, and the method waits (its generator is not resumed) while its
 * caller has taken all its window allows, while the connection takes no
 * more, or while more than {@link MAX_QUEUED_MESSAGES} wait to leave: a
 * stream never piles up on the node.
 */
export class SessionStreams {
  readonly #session: StreamSession;
  readonly #credits = new Map<bigint, Credit>();

  constructor(session: StreamSession) {
    this.#session = session;
  }

  /** Sends `items` (a worker's come already encoded) as call `call`'s stream, then its end. */
  /** Sends a stream's items, then its end; resolves with the code it ended with. */
  async send(call: Call, path: string, items: AsyncIterable<unknown>, signal: Cancellation): Promise<number> {
    const session = this.#session;
    const credit: Credit | undefined =
      call.streamWindow > 0 ? { left: call.streamWindow, wake: undefined } : undefined;
    if (credit) this.#credits.set(call.id, credit);
    try {
      for await (const item of items) {
        if (signal.aborted) break;
        session.outbox.send(item instanceof EncodedMessage ? item : session.item(call.id, item));
        if (credit) credit.left--;
        if (this.#mustWait(credit)) await this.#room(credit, signal);
      }
      if (signal.aborted) throw signal.reason;
      session.outbox.send({ end: { id: call.id, error: undefined } });
      return Code.OK;
    } catch (err) {
      const error = session.callError(path, err);
      session.outbox.send({ end: { id: call.id, error } });
      return error.code;
    } finally {
      this.#credits.delete(call.id);
    }
  }

  /** The caller took `items` more of stream `id`. */
  more(id: bigint, items: number): void {
    const credit = this.#credits.get(id);
    if (!credit) return;
    credit.left = Math.min(credit.left + items, 0xffffffff);
    credit.wake?.();
  }

  clear(): void {
    this.#credits.clear();
  }

  #mustWait(credit: Credit | undefined): boolean {
    const { outbox } = this.#session;
    return (
      (credit !== undefined && credit.left <= 0) ||
      outbox.drain !== undefined ||
      outbox.queued >= MAX_QUEUED_MESSAGES
    );
  }

  /** Returns once a stream may send again, or once its call was cancelled or the session ended. */
  async #room(credit: Credit | undefined, cancellation: Cancellation): Promise<void> {
    const { outbox } = this.#session;
    while (!cancellation.aborted && !this.#session.closed() && this.#mustWait(credit)) {
      if (credit && credit.left <= 0) {
        const signal = cancellation.signal;
        await new Promise<void>((resolve) => {
          const wake = () => {
            credit.wake = undefined;
            signal.removeEventListener("abort", wake);
            resolve();
          };
          credit.wake = wake;
          signal.addEventListener("abort", wake);
        });
      } else if (outbox.drain) {
        await outbox.drain;
      } else {
        // The flush already scheduled runs before this.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}
