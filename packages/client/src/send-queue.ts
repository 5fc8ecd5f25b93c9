/**
 * Sends made while the channel is not open wait here (each with its own timeout through the
 * clock) until the next open, or fail when the channel closes.
 */
import { ThroughlineError } from "@throughline/wire";
import type { Clock } from "./options.js";

interface Waiter {
  readonly go: () => void;
  readonly fail: (e: ThroughlineError) => void;
}

export class SendQueue {
  readonly #waiters = new Set<Waiter>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** Runs `send` at the next `flush()`; rejects after `timeoutMs` or at `failAll()`. */
  enqueue(send: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(w);
        this.clock.clearTimeout(timer);
      };
      const timer = this.clock.setTimeout(() => {
        this.#waiters.delete(w);
        reject(new ThroughlineError("TL_SEND_FAILED", `not connected within ${this.timeoutMs} ms.`));
      }, this.timeoutMs);
      const w: Waiter = {
        go: () => {
          done();
          send().then(resolve, reject);
        },
        fail: (e) => {
          done();
          reject(e);
        },
      };
      this.#waiters.add(w);
    });
  }

  /** The channel opened: every waiting send goes. */
  flush(): void {
    for (const w of [...this.#waiters]) w.go();
  }

  failAll(): void {
    for (const w of [...this.#waiters]) w.fail(new ThroughlineError("TL_CLOSED", "the channel closed before sending."));
  }
}
