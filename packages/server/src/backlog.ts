/**
 * Counts a connection's unsent messages for `maxBufferedMessages`. Writes queued behind unsent
 * bytes are counted until their write callback (the bytes reached the kernel); a write into an
 * empty buffer goes to the kernel at once and is not counted, so a reader that keeps up costs
 * no callback per delivery. A healthy reader also goes over the
 * limit for a moment during a big synchronous burst of publishes (node:http corks chunked
 * writes until the next tick, callbacks run late), so going over only starts a grace period of
 * `BACKLOG_GRACE_MS`: a connection still over the limit at its end does not keep up and is
 * closed. Memory meanwhile stays bounded by `maxBufferedBytes`, which is checked at once.
 */
import { CloseCode } from "@throughline/wire";

/** How long a connection may stay over `maxBufferedMessages` before it counts as too slow. */
export const BACKLOG_GRACE_MS = 1_000;

/** What a backlog closes when its reader does not keep up (the connection it counts for). */
export interface BacklogOwner {
  close(code: number, reason: string): void;
}

/** The grace period's end; one function for every backlog (the backlog is the timer's argument). */
function checkBacklog(backlog: Backlog): void {
  backlog.graceOver();
}

/**
 * One per streaming connection, so it holds no closures of its own until it needs them: the write
 * callback is made on the first counted write (a reader that keeps up never needs it) and the
 * grace timer calls a shared function.
 */
export class Backlog {
  /** Writes not yet handed to the kernel. */
  count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  #done: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    /** Closed with 4408 once the backlog stayed over the limit for the grace period. */
    private readonly owner: BacklogOwner,
  ) {}

  /** Pass as the write callback of every counted write. */
  get done(): () => void {
    return (this.#done ??= () => {
      this.count--;
    });
  }

  /** The write callback of a counted write carrying `n` messages (a coalesced batch, see transports/batch.ts). */
  doneFor(n: number): () => void {
    return n === 1 ? this.done : () => {
      this.count -= n;
    };
  }

  /** Call after each counted write, with the messages it carries. */
  wrote(n = 1): void {
    this.count += n;
    if (this.count > this.limit && this.#timer === undefined && !this.#disposed) {
      this.#timer = setTimeout(checkBacklog, BACKLOG_GRACE_MS, this);
      this.#timer.unref();
    }
  }

  /** @internal The grace timer ran out: still over the limit means the reader does not keep up. */
  graceOver(): void {
    this.#timer = undefined;
    if (!this.#disposed && this.count > this.limit) this.owner.close(CloseCode.TOO_SLOW, "the client read too slowly");
  }

  /**
   * Bytes of the opening writes (hello + resume replay) that may sit unsent on top of
   * `maxBufferedBytes`: a resume bigger than the limit would otherwise be cut with 4408 before
   * the client could read it, on every attempt. Once the opening is written, the allowance lapses
   * as soon as the unsent bytes first fall to the limit, so the bound is the limit plus one replay
   * (itself bounded by the history).
   */
  #allowance = 0;
  #opening = false;

  /** Call before the opening writes, with their total size; `endOpening()` after them. */
  beginOpening(bytes: number): void {
    this.#allowance = bytes;
    this.#opening = true;
  }

  endOpening(): void {
    this.#opening = false;
  }

  /** Whether `buffered` unsent bytes exceed `max` (plus the opening allowance while it lasts). */
  tooManyBytes(buffered: number, max: number): boolean {
    if (!this.#opening && this.#allowance > 0 && buffered <= max) this.#allowance = 0;
    return buffered > max + this.#allowance;
  }

  /** The connection ended: no check fires any more. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
