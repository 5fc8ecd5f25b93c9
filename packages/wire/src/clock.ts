/**
 * The one `Clock` of every package: wall time plus one-shot timers, injectable so tests (and
 * applications) drive protocol timing with fake time. Pure interface plus the system clock; the
 * server wraps it with unref'd timers (see server `clock.ts`).
 */

/** Time source and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; a handle whose timer already ran (or was cleared) is a no-op, as with `clearTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The runtime's own clock and timers. */
export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
