import type { RemoteError } from "./remote-error.js";
import type { CallControl, CallSink } from "./session-call.js";

type Step = { value: unknown } | { done: true } | { error: RemoteError };

/**
 * The handle of one remote call: await it for the result (a stream's items
 * as one array), or iterate it with `for await` to get a stream's items as
 * they arrive. Leaving the loop early cancels the call on the node.
 */
export class RemoteCall<T> implements PromiseLike<T>, AsyncIterable<T extends readonly (infer I)[] ? I : T> {
  readonly #control: CallControl;
  #mode: "unset" | "await" | "iterate" = "unset";
  #settled: Step | undefined;
  #streamed = false;
  readonly #items: unknown[] = [];
  #promise: Promise<T> | undefined;
  #resolve: ((v: T) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;
  readonly #queue: Step[] = [];
  #wake: (() => void) | undefined;

  /**
   * `start` begins the call with the sink this handle listens on. Stream
   * items are reported taken when the caller has them: all of them when it
   * awaits the whole list, one by one as a `for await` loop takes them, none
   * before it has chosen, so an unread stream holds at most its window.
   */
  constructor(start: (sink: CallSink) => CallControl) {
    this.#control = start({
      value: (value) => this.#finish({ value }),
      item: (value) => {
        this.#streamed = true;
        if (this.#mode === "iterate") this.#push({ value });
        else {
          this.#items.push(value);
          if (this.#mode === "await") this.#control.took(1);
        }
      },
      end: () => {
        this.#streamed = true;
        this.#finish({ done: true });
      },
      fail: (error) => this.#finish({ error }),
    });
  }

  get [Symbol.toStringTag](): string {
    return "RemoteCall";
  }

  #finish(step: Step): void {
    if (this.#settled) return;
    this.#settled = step;
    if (this.#mode === "iterate") this.#push(step);
    this.#settlePromise();
  }

  #settlePromise(): void {
    if (!this.#resolve || !this.#reject || !this.#settled) return;
    const step = this.#settled;
    if ("error" in step) this.#reject(step.error);
    else if ("done" in step) this.#resolve(this.#items as T);
    else this.#resolve(step.value as T);
  }

  #push(step: Step): void {
    this.#queue.push(step);
    this.#wake?.();
  }

  // biome-ignore lint/suspicious/noThenProperty: a RemoteCall is awaited like a promise, on purpose
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    if (!this.#promise) {
      if (this.#mode === "unset" && this.#items.length > 0) this.#control.took(this.#items.length);
      this.#mode = this.#mode === "iterate" ? "iterate" : "await";
      this.#promise = new Promise<T>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
      this.#settlePromise();
    }
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onFinally);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T extends readonly (infer I)[] ? I : T> {
    if (this.#mode !== "unset") throw new TypeError("a RemoteCall is awaited or iterated, once");
    this.#mode = "iterate";
    // Items that arrived before iteration began come first.
    for (const value of this.#items.splice(0)) this.#queue.push({ value });
    if (this.#settled) this.#queue.push(this.#settled);
    let finished = false;
    try {
      for (;;) {
        const step = this.#queue.shift();
        if (!step) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        if ("error" in step) {
          finished = true;
          throw step.error;
        }
        if ("done" in step) {
          finished = true;
          return;
        }
        if (!this.#streamed) {
          finished = true;
          throw new TypeError("the method returned a value, not a stream: await it instead of iterating");
        }
        this.#control.took(1);
        yield step.value as T extends readonly (infer I)[] ? I : T;
      }
    } finally {
      if (!finished) this.#control.cancel();
    }
  }
}
