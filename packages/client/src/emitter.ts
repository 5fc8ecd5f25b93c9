/**
 * A minimal event emitter. A listener that throws does not stop delivery to the others: its error
 * is reported like an EventTarget listener's, through `reportError` where the platform has it
 * (browsers: the window "error" event) and otherwise rethrown in a microtask (Node: an uncaught
 * exception, as Node's own EventTarget does). Swallowing would hide application bugs.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (arg: any) => void;

/** Reports an exception thrown by an application listener without breaking the caller. */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === "function") report(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}

export class Emitter {
  // Arrays are replaced, never mutated, so an emit in progress is unaffected by on/off.
  readonly #map = new Map<string, readonly Listener[]>();

  on(event: string, fn: Listener): () => void {
    this.#map.set(event, [...(this.#map.get(event) ?? []), fn]);
    return () => this.off(event, fn);
  }

  off(event: string, fn: Listener): void {
    const list = this.#map.get(event) ?? [];
    // An unknown listener (i = -1) leaves an equal copy, or no entry for an empty list.
    const i = list.indexOf(fn);
    const next = list.filter((_, j) => j !== i);
    if (next.length) this.#map.set(event, next);
    else this.#map.delete(event);
  }

  emit(event: string, arg: unknown): void {
    for (const fn of this.#map.get(event) ?? []) {
      try {
        fn(arg);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
