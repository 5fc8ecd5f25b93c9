/** The client tests' clock: the shared fake clock, advanced with queued microtasks run in between. */
import type { Clock } from "@throughline/client";
import { FakeClock, flush } from "@throughline/testkit";

export { flush };

export class ManualClock implements Clock {
  readonly #clock = new FakeClock(0);

  now(): number {
    return this.#clock.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.#clock.setTimeout(fn, ms);
  }

  clearTimeout(handle: unknown): void {
    this.#clock.clearTimeout(handle);
  }

  get pending(): number {
    return this.#clock.pending;
  }

  /** Moves time forward by `ms`, running due timers (and the microtasks they queue) in order. */
  advance(ms: number): Promise<void> {
    return this.#clock.advanceAsync(ms);
  }
}
