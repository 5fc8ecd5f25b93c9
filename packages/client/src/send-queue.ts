/**
 * What waits for the channel to open: sends made while it is not open, and a forced switch
 * (`switchTransport`) waiting for a link to switch from. Each waits with its own timeout through
 * the clock until the next open, or fails when the channel closes. A closure rather than a class:
 * its private state then minifies (the browser bundle must not grow).
 */
import { DEV, ThroughlineError, type ErrorCode } from "@throughline/wire";
import type { Clock } from "./options.js";

export interface SendQueue {
  /**
   * Runs `go` at the next `_flush()` and settles as its result; rejects with `timeoutCode` after
   * `ms`, or with TL_CLOSED at `_failAll()`.
   */
  _enqueue(go: () => void | Promise<void>, ms: number, timeoutCode: ErrorCode): Promise<void>;
  /** The channel opened: every waiter goes. */
  _flush(): void;
  _failAll(): void;
}

/** `undefined` for `go`: fail. */
type Waiter = (go?: ThroughlineError) => void;

export function sendQueue(clock: Clock): SendQueue {
  const waiters = new Set<Waiter>();
  const all = (e?: ThroughlineError) => {
    for (const w of [...waiters]) w(e);
  };
  return {
    _enqueue: (go, ms, timeoutCode) =>
      new Promise<void>((resolve, reject) => {
        const w: Waiter = (e) => {
          waiters.delete(w);
          clock.clearTimeout(timer);
          if (e) reject(e);
          else resolve(go());
        };
        const timer = clock.setTimeout(() => w(new ThroughlineError(timeoutCode, DEV ? `not connected within ${ms} ms.` : `${ms} ms`)), ms);
        waiters.add(w);
      }),
    _flush: () => all(),
    _failAll: () => all(new ThroughlineError("TL_CLOSED", DEV ? "the channel closed before it opened." : "")),
  };
}
