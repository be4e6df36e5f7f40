import type { Completion, MapOptions } from "./map-options.js";
import { MapTally } from "./map-tally.js";
import type { Job, MapWindow } from "./map-window.js";
import { RemoteError } from "./remote-error.js";

/** An item's result: its value, or the error it failed with. */
export type ItemResult = { ok: true; value: unknown } | { ok: false; error: RemoteError };

/**
 * What a map hands its consumer: each item's completion, once, in the order
 * the items finish, then the map's end, or the error it failed with as a
 * whole. The consumer waits in {@link take} until there is one or the other.
 */
export class MapOutbox {
  /** What the map has done, for `pool.maps()`. */
  readonly tally = new MapTally();
  readonly #window: MapWindow;
  readonly #options: MapOptions;
  readonly #itemFailed: () => void;
  #out: Completion[] = [];
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;

  /** With `errors: "throw"` (the default), a failed item calls `itemFailed`: the map ends with it. */
  constructor(window: MapWindow, options: MapOptions, itemFailed: () => void) {
    this.#window = window;
    this.#options = options;
    this.#itemFailed = itemFailed;
  }

  /** Whether the map has ended: nothing more is sent, and the consumer sees the end once it has the rest. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Completions available now, in the order they finished; waits when there
   * are none yet. Undefined once every item has been handed out. Throws when
   * the map as a whole failed.
   */
  async take(): Promise<Completion[] | undefined> {
    for (;;) {
      if (this.#out.length > 0) {
        const out = this.#out;
        this.#out = [];
        return out;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Delivers an item's completion, answered by `node`, once; a second one for it is dropped. */
  complete(job: Job, node: string, result: ItemResult): void {
    if (!this.#window.settle(job)) return;
    this.tally.completed(node, result.ok);
    if (result.ok) this.#out.push({ index: job.index, node, ok: true, value: result.value });
    else {
      const error = itemError(job.index, result.error);
      this.#out.push({ index: job.index, node, ok: false, error });
      if ((this.#options.errors ?? "throw") === "throw") {
        // The map fails with this item: nothing else needs to run.
        this.#itemFailed();
      }
    }
    this.#wakeUp();
  }

  /** Ends the map, failed as a whole with `failure` when one is given; false when it had already ended. */
  end(failure?: unknown): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#failure = failure;
    this.#wakeUp();
    return true;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** An item's error, saying which item it was. */
function itemError(index: number, error: RemoteError): RemoteError {
  return new RemoteError(error.code, `item ${index}: ${error.details}`, {
    remoteName: error.remoteName,
    remoteStack: error.remoteStack,
    field: error.field,
    cause: error,
  });
}
