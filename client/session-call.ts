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
  /** A batch's entries are answered as they end, not all together (Batch.stream_outcomes). */
  streamOutcomes?: boolean;
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
  /**
   * Entries ended: `outcomes[k]` is entry `indexes[k]`'s or, with no
   * indexes, every entry's in order. A batch that streams its outcomes hears
   * this as often as they come, each entry once.
   */
  outcomes(outcomes: BatchOutcome[], indexes: readonly number[]): void;
  /** Every entry has been answered. */
  done(): void;
  /** The batch failed as a whole: every entry not answered before failed with it. */
  fail(error: RemoteError): void;
}

/** Some entries of a batch and their outcomes, as one BatchResult carries them. */
export interface BatchPart {
  outcomes: BatchOutcome[];
  indexes: readonly number[];
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

/**
 * The call sink of a batch: a partial BatchResult comes as an item, the last
 * as the value; each is `sink`'s outcomes, and the last its end too.
 */
export function batchCallSink(sink: BatchSink): CallSink {
  return {
    item(part) {
      const { outcomes, indexes } = part as BatchPart;
      sink.outcomes(outcomes, indexes);
    },
    value(part) {
      const { outcomes, indexes } = part as BatchPart;
      sink.outcomes(outcomes, indexes);
      sink.done();
    },
    end: () => {},
    fail: (error) => sink.fail(error),
  };
}
