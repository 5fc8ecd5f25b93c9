/**
 * Streams over the core packages' `on(event, fn)` listeners. Each run of such a stream adds
 * its own listener (removed when the stream ends or is interrupted), so several consumers each
 * see every event from the moment they start. A `Lifetime` ends every running stream when the
 * thing they listen to closes, so consumers finish instead of waiting forever.
 */
import * as Effect from "effect/Effect";
import * as Queue from "effect/Queue";
import * as Stream from "effect/Stream";
import * as Cause from "effect/Cause";

/** Ends the streams of one resource (a server, a channel) when it closes, with an error or not. */
export class Lifetime<E> {
  #queues = new Set<Queue.Queue<any, E | Cause.Done>>();
  #ended: { readonly error: E | undefined } | undefined;

  /** Ends every running stream, failing them with `error` if given; later streams end at once. */
  end(error?: E): void {
    if (this.#ended) return;
    this.#ended = { error };
    for (const q of this.#queues) this.#finish(q);
    this.#queues.clear();
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Adds a queue; false (and the queue finished) when already ended. */
  add(q: Queue.Queue<any, E | Cause.Done>): boolean {
    if (this.#ended) {
      this.#finish(q);
      return false;
    }
    this.#queues.add(q);
    return true;
  }

  remove(q: Queue.Queue<any, E | Cause.Done>): void {
    this.#queues.delete(q);
  }

  #finish(q: Queue.Queue<any, E | Cause.Done>): void {
    const error = this.#ended!.error;
    if (error === undefined) Queue.endUnsafe(q);
    else Queue.failCauseUnsafe(q, Cause.fail(error));
  }
}

/**
 * A stream of what `subscribe` emits, from the moment the stream runs until `lifetime` ends.
 * `subscribe` returns its unsubscribe function.
 */
export function fromListener<A, E>(lifetime: Lifetime<E>, subscribe: (emit: (a: A) => void) => () => void): Stream.Stream<A, E> {
  return Stream.callback<A, E>((queue) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        if (!lifetime.add(queue)) return () => {};
        const off = subscribe((a) => {
          Queue.offerUnsafe(queue, a);
        });
        return () => {
          off();
          lifetime.remove(queue);
        };
      }),
      (off) => Effect.sync(off),
    ),
  );
}
