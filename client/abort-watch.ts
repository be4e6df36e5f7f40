/** The calls watching each signal; one 'abort' listener per signal however many there are. */
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `fn` when `signal` aborts; the returned function stops watching. A
 * signal shared by thousands of calls (one AbortController for a whole map)
 * gets one listener, not one per call: no listener-leak warning, and one
 * abort costs one pass over the watchers.
 */
export function watchAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = watchers.get(signal);
  if (!set) {
    const fresh = new Set<() => void>();
    set = fresh;
    watchers.set(signal, fresh);
    signal.addEventListener(
      "abort",
      () => {
        watchers.delete(signal);
        for (const watcher of [...fresh]) watcher();
      },
      { once: true },
    );
  }
  const own = set;
  own.add(fn);
  return () => {
    own.delete(fn);
  };
}
