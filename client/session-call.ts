import { Code } from "../src/code.js";
import type { CallSpan } from "../src/trace-context.js";
import type { RemoteError } from "./remote-error.js";

/**
 * Stream items the node may send ahead of a caller that iterates slowly: the
 * most a streaming call holds in this process before the node waits for it.
 */
export const STREAM_WINDOW_ITEMS = 1024;

/** Options of one call through a session. */
export interface SessionCallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  oneway?: boolean;
  /** Stream items the node may send before the caller takes them; default {@link STREAM_WINDOW_ITEMS}. */
  streamWindow?: number;
}

/** What the caller of {@link ClientSession.call} can do with the call it started. */
export interface CallControl {
  /** Cancels the call on the node; its sink hears CANCELLED. */
  cancel(): void;
  /** The caller has taken `items` stream items: the node may send as many more. */
  took(items: number): void;
}

/** Receives what the node answers for one call. */
export interface CallSink {
  value(value: unknown): void;
  item(value: unknown): void;
  end(): void;
  fail(error: RemoteError): void;
}

/** How one entry of a batch ended. */
export type BatchOutcome = { ok: true; value: unknown } | { ok: false; error: RemoteError };

/** Receives what the node answers for one batch. */
export interface BatchSink {
  done(outcomes: BatchOutcome[]): void;
  fail(error: RemoteError): void;
}

/** What a call is addressed to: an exposed object by name, or an object the node handed out. */
export type CallTarget = { object: string } | { refId: string };

/** `sink`, ending `span` with the call's outcome. */
export function tracedSink(sink: CallSink, span: CallSpan): CallSink {
  return {
    value(value) {
      span.end(Code.OK);
      sink.value(value);
    },
    item: (value) => sink.item(value),
    end() {
      span.end(Code.OK);
      sink.end();
    },
    fail(error) {
      span.end(error.code, error.details);
      sink.fail(error);
    },
  };
}
