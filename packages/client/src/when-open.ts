/**
 * Waiting for the channel to open: sends made while it is not open, and a forced switch
 * (`switchTransport`) waiting for a link to switch from. Each waiter listens for the next `open`
 * and `close` events, with its own timeout through the clock.
 */
import { DEV, ThroughlineError, type ErrorCode } from "@throughline/wire";
import type { Emitter } from "./emitter.js";
import type { Clock } from "./options.js";

/**
 * Runs `go` at the channel's next `open` event and settles as its result; rejects with
 * `timeoutCode` after `ms`, or with TL_CLOSED at the `close` event.
 */
export function whenOpen(events: Emitter, clock: Clock, go: () => void | Promise<void>, ms: number, timeoutCode: ErrorCode): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (e?: ThroughlineError) => {
      offOpen();
      offClose();
      clock.clearTimeout(timer);
      if (e) reject(e);
      else resolve(go());
    };
    const offOpen = events.on("open", () => done());
    const offClose = events.on("close", () => done(new ThroughlineError("TL_CLOSED", DEV ? "the channel closed before it opened." : "")));
    const timer = clock.setTimeout(() => done(new ThroughlineError(timeoutCode, DEV ? `not connected within ${ms} ms.` : `${ms} ms`)), ms);
  });
}
