import { InstanceMode } from "../src/gen/ferry/v1/objects.js";

/** How long a session with nothing pending or held waits for another call before ending its stream. */
export const IDLE_CLOSE_MS = 50;

/** Whether objects of this mode live on the node for a session (unknown: assume they do). */
function holdsState(mode: InstanceMode | undefined): boolean {
  return mode !== InstanceMode.INSTANCE_MODE_SINGLE && mode !== InstanceMode.INSTANCE_MODE_PERCALL;
}

/**
 * What the node may hold for one client session (session-mode objects it
 * called, references it was handed), and when the session, holding nothing
 * and waiting for nothing, may end its stream: after {@link IDLE_CLOSE_MS},
 * so that a script whose work is done exits, as it would after unary calls.
 */
export class SessionHolds {
  readonly #modes = new Map<string, InstanceMode>();
  readonly #held = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  readonly #busy: () => boolean;
  readonly #end: () => void;

  /** `busy`: whether calls are pending or no stream is open; `end` ends the idle stream. */
  constructor(busy: () => boolean, end: () => void) {
    this.#busy = busy;
    this.#end = end;
  }

  /** An object's instance mode, once Describe has told it. */
  described(name: string, mode: InstanceMode): void {
    this.#modes.set(name, mode);
    // Called before its mode was known: it holds nothing unless it is a session object.
    if (!holdsState(mode)) this.#held.delete(name);
    this.check();
  }

  /** A call to an exposed object by name, or to an object the node handed out. */
  calling(target: { object: string } | { refId: string }): void {
    this.cancel();
    if (!("object" in target)) this.#held.add(target.refId);
    else if (holdsState(this.#modes.get(target.object))) this.#held.add(target.object);
  }

  /** An object the node handed out by reference: held until released. */
  holds(refId: string): void {
    this.#held.add(refId);
  }

  released(names: readonly string[]): void {
    for (const name of names) this.#held.delete(name);
    this.check();
  }

  /** The stream broke: the node holds nothing for it any more. */
  lost(): void {
    this.#held.clear();
  }

  /** Starts the idle countdown when nothing is pending or held. */
  check(): void {
    if (this.#timer || this.#held.size > 0 || this.#busy()) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#held.size === 0 && !this.#busy()) this.#end();
    }, IDLE_CLOSE_MS);
    this.#timer.unref();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
