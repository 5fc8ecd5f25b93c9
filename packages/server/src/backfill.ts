/**
 * Backfill of a resume from the shared history (issue #12): a node's replica keeps only the
 * server's `history` bounds per topic (1,000 messages, 300 s by default), the backplane keeps more
 * (Redis: `historyLength`). A client away for longer than the replica's window resumes on a node
 * that no longer holds its cursor; instead of a local `evicted` gap, the stretch between the cursor
 * and what the replica still vouches for is read from the backplane before the (synchronous,
 * race-free) plan, which then replays it followed by the replica's own entries.
 *
 * The gap the client gets, if any, is the shared history's own: the backplane no longer covers
 * the cursor either. If the backplane cannot be read, the plan falls back to the local gap: a
 * gap, never a silent loss.
 */
import type { Backplane, BackplaneMessage } from "./backplane.js";
import type { HistoryEntry } from "./history.js";
import type { Backfill, ReplicaStore } from "./replica.js";

/** Messages read per backplane `since` page. */
export const BACKFILL_PAGE = 1_000;
/**
 * Most messages read for one resume: twice the Redis backplane's default `historyLength` (its
 * `MAXLEN ~` trimming keeps somewhat more). Past it, the backfill ends where it got to.
 */
export const BACKFILL_MAX = 20_000;
/** Entries held at once by backfills awaiting their plan; past it a resume gets the local gap. */
export const BACKFILL_HELD_MAX = 100_000;
/** How long a backfill waits for its plan (authentication may run in between) before it is dropped. */
export const BACKFILL_HOLD_MS = 10_000;

/**
 * Reads the shared history of `topics` after `cursor` (same epoch as the replica) up to the
 * replica's head; `undefined` when it does not reach where the replica vouches (backplane
 * unreachable, another epoch, the history trimmed during the read, more than BACKFILL_MAX
 * messages before that point): the plan then reports the local gap.
 */
export async function readBackfill(
  backplane: Backplane,
  replica: ReplicaStore,
  topics: readonly string[],
  cursor: number,
  entry: (m: BackplaneMessage) => HistoryEntry,
): Promise<Backfill | undefined> {
  const epoch = replica.epoch;
  // Never past what the ingest delivered here: later messages reach the client live.
  const bound = replica.seq;
  const all = topics.length === 1 && topics[0] === "*";
  const entries: HistoryEntry[] = [];
  let evicted = false;
  let at = cursor;
  for (let read = 0; read < BACKFILL_MAX; ) {
    let page;
    try {
      page = await backplane.since(["*"], { epoch, seq: at }, BACKFILL_PAGE);
    } catch {
      return undefined;
    }
    if (replica.epoch !== epoch) return undefined;
    if (page.gap) {
      // Only at the cursor is the shared gap the client's exact point; `epoch` comes through the ingest.
      if (page.gap.reason !== "evicted" || at !== cursor || page.gap.continueAfter.epoch !== epoch) return undefined;
      evicted = true;
      at = Math.min(page.gap.continueAfter.seq, bound);
    }
    for (const m of page.messages) {
      if (m.epoch !== epoch) return undefined;
      if (m.seq > bound) {
        at = bound;
        break;
      }
      if (all || topics.includes(m.topic)) entries.push(entry(m));
      at = m.seq;
    }
    read += page.messages.length;
    if (at >= bound || !page.more || page.messages.length === 0) break;
  }
  // Read up to the replica's head, not just to where it vouches today: the replica goes on evicting
  // while the request is admitted, and a backfill ending at its edge would no longer join it.
  return replica.covers(topics, at) ? { topics, cursor, upTo: at, entries, evicted } : undefined;
}
