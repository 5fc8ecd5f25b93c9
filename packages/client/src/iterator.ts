/**
 * The channel's async iteration. Each iterator buffers the messages delivered after it was
 * created, without bound (the app decides how fast it reads; the stream cannot be paused), and
 * ends once the buffer is drained after the channel closed.
 */
import type { Message } from "@throughline/wire";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** One iterator of the channel: the async iterator the app reads, plus what the channel calls. */
export interface MessageIterator extends AsyncIterableIterator<Message> {
  /** A delivered message (ignored once ended). */
  push(m: Message): void;
  /** The channel closed (or the app broke out): detach; reads drain the buffer, then end. */
  end(): void;
}

/**
 * A new iterator; `detach` is called once when it ends. A closure rather than a class: its
 * private state then minifies.
 */
export function messageIterator(detach: (it: MessageIterator) => void): MessageIterator {
  let buffer: Message[] = [];
  let head = 0;
  let waiting: ((r: IteratorResult<Message>) => void) | undefined;
  let ended = false;
  const it: MessageIterator = {
    push(m) {
      if (ended) return;
      const w = waiting;
      if (w) {
        waiting = undefined;
        w({ done: false, value: m });
      } else buffer.push(m);
    },
    end() {
      ended = true;
      detach(it);
      // (Resolving again, after a second end(), does nothing: `waiting` can stay.)
      if (waiting) waiting(DONE);
    },
    async next() {
      if (head < buffer.length) {
        const value = buffer[head++]!;
        // Compact now and then so a long-lived iterator does not keep every message.
        if (head > 1024 && head * 2 > buffer.length) {
          buffer = buffer.slice(head);
          head = 0;
        }
        return { done: false, value };
      }
      if (ended) return DONE;
      // One pending next() at a time is the for-await contract; a second caller replaces nothing.
      return new Promise((resolve) => {
        const prev = waiting;
        waiting = prev ? (r) => (prev(r), resolve(r)) : resolve;
      });
    },
    /** `break` in a for-await loop: detach from the channel. */
    async return() {
      buffer = []; // (`head` past an empty buffer reads nothing either)
      it.end();
      return DONE;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
