/**
 * The one fake clock of the test suites (server, client, testkit): time moves only when a test
 * says so, and due timers run in order, each at its own time. `advance` is synchronous (the
 * server's timers do their work at once); `advanceAsync` lets queued promise chains run before,
 * between and after timers (the client's timers start async work).
 */
import type { Clock } from "@throughline/wire";

export class FakeClock implements Clock {
  time: number;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  /** `start`: the clock's first `now()`. @default 0 */
  constructor(start = 0) {
    this.time = start;
  }

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.#timers.delete(handle as number);
  };

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** The earliest timer due by `end`, removed from the set, with the clock moved to its time. */
  #takeDue(end: number): (() => void) | undefined {
    let first: [number, { at: number; fn: () => void }] | undefined;
    for (const e of this.#timers) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
    if (!first) return undefined;
    this.#timers.delete(first[0]);
    this.time = Math.max(this.time, first[1].at);
    return first[1].fn;
  }

  /** Moves time forward by `ms`, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let fn = this.#takeDue(end); fn; fn = this.#takeDue(end)) fn();
    this.time = end;
  }

  /** Like `advance`, letting queued microtasks run before, between and after the timers. */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush(); // what is already queued runs at the current time
    for (let fn = this.#takeDue(end); fn; fn = this.#takeDue(end)) {
      fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

/** Lets every queued microtask (promise chains of any depth) run: a macrotask comes after them all. */
export function flush(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
