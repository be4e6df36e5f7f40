import type { LoopBlock } from "../src/gen/ferry/v1/node.js";
import type { Log } from "../src/log.js";

/** A method's turn on the event loop longer than this, in ms, is reported. */
export const LOOP_BLOCK_MS = 100;

/** Methods whose holds are logged, at most: a node logs each method once. */
const MAX_LOGGED = 1_000;

/**
 * Notices methods that hold the node's event loop. While one computes on the
 * main thread the node answers nothing, health checks included, so a pool
 * cannot tell it from a dead node; the node logs the method once with what
 * to do, and Node.Info tells pools the last hold, so they can name the cause.
 */
export class LoopWatch {
  readonly #log: Log;
  readonly #logged = new Set<string>();
  #last: { method: string; ms: number; endedAt: number } | undefined;

  constructor(log: Log) {
    this.#log = log;
  }

  /** A call of `call.object`'s `call.method` ran `ms` on the event loop in one turn. */
  held(call: { object: string; method: { name: string } }, ms: number): void {
    if (ms < LOOP_BLOCK_MS) return;
    const method = `${call.object}.${call.method.name}`;
    this.#last = { method, ms, endedAt: performance.now() };
    if (this.#logged.has(method) || this.#logged.size >= MAX_LOGGED) return;
    this.#logged.add(method);
    this.#log.warn(
      `${method} held the event loop for ${Math.round(ms)} ms, and the node answered nothing meanwhile, health checks included; expose ${call.object} with run: "workers" to run it in worker threads`,
    );
  }

  /** The last hold, as Node.Info reports it. */
  get last(): LoopBlock | undefined {
    const last = this.#last;
    if (!last) return undefined;
    return {
      method: last.method,
      milliseconds: last.ms,
      secondsAgo: (performance.now() - last.endedAt) / 1000,
    };
  }
}
