/**
 * The default clock and a registry of timers, so `close()` can clear every timer a proxy set,
 * whichever exchange set it.
 */
import { SYSTEM_CLOCK } from "@throughline/wire";
import type { Clock } from "./types.js";

/** Wall clock and global timers (`wire`'s system clock). */
export const REAL_CLOCK: Clock = SYSTEM_CLOCK;

/** A cancellable timer owned by a `TimerSet`. */
export interface Timer {
  cancel(): void;
}

/** Tracks live timers so they can all be cleared at once. */
export class TimerSet {
  private readonly live = new Set<{ handle: unknown }>();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** Sets a one-shot timer; a no-op once the set is closed. */
  set(fn: () => void, ms: number): Timer {
    const entry = { handle: undefined as unknown };
    if (this.closed) return { cancel: () => {} };
    entry.handle = this.clock.setTimeout(() => {
      this.live.delete(entry);
      fn();
    }, Math.max(0, ms));
    this.live.add(entry);
    return {
      cancel: () => {
        if (this.live.delete(entry)) this.clock.clearTimeout(entry.handle);
      },
    };
  }

  /** Clears every live timer; later `set` calls do nothing. */
  close(): void {
    this.closed = true;
    for (const entry of this.live) this.clock.clearTimeout(entry.handle);
    this.live.clear();
  }

  get size(): number {
    return this.live.size;
  }
}
