/**
 * Time source of the hub. Protocol timing (heartbeats, long-poll holds, session expiry, history
 * age) goes through a `Clock` so tests can drive it with fake time; socket-safety timers (e.g.
 * "destroy a socket that will not drain") use real timers on purpose, since they guard real I/O.
 */

import type { Clock } from "@throughline/wire";

/** An injectable clock: wall time plus one-shot timers (the one `Clock` of `wire`). */
export type { Clock };

/**
 * The real clock. Timers are unref'd: the listening socket keeps the process alive, a pending
 * heartbeat or session-expiry timer must not.
 */
export const REAL_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/** A real-time timer for socket safety (not protocol timing), never keeping the process alive. */
export function safetyTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}
