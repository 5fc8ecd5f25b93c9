/**
 * The channel's async iteration. Each iterator buffers the messages delivered after it was
 * created, without bound (the app decides how fast it reads; the stream cannot be paused), and
 * ends once the buffer is drained after the channel closed.
 */
import type { Message } from "@throughline/wire";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class MessageIterator implements AsyncIterableIterator<Message> {
  #buffer: Message[] = [];
  #head = 0;
  #waiting: ((r: IteratorResult<Message>) => void) | undefined;
  #ended = false;
  readonly #detach: (it: MessageIterator) => void;

  constructor(detach: (it: MessageIterator) => void) {
    this.#detach = detach;
  }

  /** A delivered message. */
  push(m: Message): void {
    if (this.#ended) return;
    const w = this.#waiting;
    if (w) {
      this.#waiting = undefined;
      w({ done: false, value: m });
    } else this.#buffer.push(m);
  }

  /** The channel closed: what is buffered is still yielded, then iteration ends. */
  end(): void {
    this.#ended = true;
    this.#detach(this);
    const w = this.#waiting;
    this.#waiting = undefined;
    if (w) w(DONE);
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head++]!;
      // Compact now and then so a long-lived iterator does not keep every message.
      if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) return Promise.resolve(DONE);
    // One pending next() at a time is the for-await contract; a second caller replaces nothing.
    return new Promise((resolve) => {
      const prev = this.#waiting;
      this.#waiting = prev ? (r) => (prev(r), resolve(r)) : resolve;
    });
  }

  /** `break` in a for-await loop: detach from the channel. */
  return(): Promise<IteratorResult<Message>> {
    this.#buffer = [];
    this.#head = 0;
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
