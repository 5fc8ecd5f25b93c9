/**
 * Counts a connection's unsent messages for `maxBufferedMessages`. Writes are counted until
 * their write callback (the bytes reached the kernel). A healthy reader also goes over the
 * limit for a moment during a big synchronous burst of publishes (node:http corks chunked
 * writes until the next tick, callbacks run late), so going over only starts a grace period of
 * `BACKLOG_GRACE_MS`: a connection still over the limit at its end does not keep up and is
 * closed. Memory meanwhile stays bounded by `maxBufferedBytes`, which is checked at once.
 */
import { safetyTimer } from "./clock.js";

/** How long a connection may stay over `maxBufferedMessages` before it counts as too slow. */
export const BACKLOG_GRACE_MS = 1_000;

export class Backlog {
  /** Writes not yet handed to the kernel. */
  count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(
    private readonly limit: number,
    /** Called once the backlog stayed over the limit for the grace period. */
    private readonly over: () => void,
  ) {}

  /** Pass as the write callback of every counted write. */
  readonly done = (): void => {
    this.count--;
  };

  /** Call after each counted write. */
  wrote(): void {
    this.count++;
    if (this.count > this.limit && this.#timer === undefined && !this.#disposed) {
      this.#timer = safetyTimer(this.#check, BACKLOG_GRACE_MS);
    }
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (!this.#disposed && this.count > this.limit) this.over();
  };

  /** The connection ended: no check fires any more. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
