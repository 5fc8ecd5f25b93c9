/**
 * Sends made while the channel is not open wait here (each with its own timeout through the
 * clock) until the next open, or fail when the channel closes. A closure rather than a class:
 * its private state then minifies (the browser bundle must not grow).
 */
import { DEV, ThroughlineError } from "@throughline/wire";
import type { Clock } from "./options.js";

export interface SendQueue {
  /** Runs `send` at the next `_flush()`; rejects after the timeout or at `_failAll()`. */
  _enqueue(send: () => Promise<void>): Promise<void>;
  /** The channel opened: every waiting send goes. */
  _flush(): void;
  _failAll(): void;
}

/** `undefined` for `go`: fail. */
type Waiter = (go?: ThroughlineError) => void;

export function sendQueue(clock: Clock, timeoutMs: number): SendQueue {
  const waiters = new Set<Waiter>();
  const all = (e?: ThroughlineError) => {
    for (const w of [...waiters]) w(e);
  };
  return {
    _enqueue: (send) =>
      new Promise<void>((resolve, reject) => {
        const w: Waiter = (e) => {
          waiters.delete(w);
          clock.clearTimeout(timer);
          if (e) reject(e);
          else send().then(resolve, reject);
        };
        const timer = clock.setTimeout(() => w(new ThroughlineError("TL_SEND_FAILED", DEV ? `not connected within ${timeoutMs} ms.` : `${timeoutMs} ms`)), timeoutMs);
        waiters.add(w);
      }),
    _flush: () => all(),
    _failAll: () => all(new ThroughlineError("TL_CLOSED", DEV ? "the channel closed before sending." : "")),
  };
}
