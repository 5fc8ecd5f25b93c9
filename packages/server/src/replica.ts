/**
 * A node's local replica of the shared history (issue #12): a `HistoryStore` filled only by the
 * backplane ingest, so `Hub.plan` stays synchronous (subscribe + replay in one step, race-free)
 * while the history is shared. Its epoch follows the backplane's; `floor` is the position from
 * which it vouches for every message (what was retained when the node started, or where a new
 * epoch or an eviction gap began): a cursor below it gets a `*` gap, never a silent hole.
 *
 * The replica keeps only the server's `history` bounds per topic, the shared history keeps more: a
 * resume older than the replica is backfilled from the backplane before it is planned (see
 * backfill.ts), and the fetched stretch is held here until that plan takes it.
 */
import { History, type HistoryConfig, type HistoryEntry, type SinceResult } from "./history.js";
import type { HistoryStore } from "./history-store.js";

export class ReplicaStore implements HistoryStore {
  #epoch: string;
  #seq = 0;
  #floor = 0;
  #history: History<HistoryEntry>;
  /** Backfills awaiting their plan, by the cursor they start at (each taken once, see `hold`). */
  #backfills = new Map<number, Backfill[]>();
  #held = 0;

  constructor(
    epoch: string,
    private readonly config: HistoryConfig,
    private readonly now: () => number,
  ) {
    this.#epoch = epoch;
    this.#history = new History(config, now);
  }

  get epoch(): string {
    return this.#epoch;
  }

  get seq(): number {
    return this.#seq;
  }

  /** The position from which this replica holds every message (within its per-topic bounds). */
  get floor(): number {
    return this.#floor;
  }

  /** Starts over at `epoch`/`seq`: nothing before it is vouched for. */
  reset(epoch: string, seq: number): void {
    this.#epoch = epoch;
    this.#seq = seq;
    this.#floor = seq;
    this.#history = new History(this.config, this.now);
    this.#backfills.clear(); // positions of the old epoch
    this.#held = 0;
  }

  add(entry: HistoryEntry): void {
    this.#history.add(entry);
    this.#seq = entry.seq;
  }

  /** Whether `since(topics, cursor)` needs nothing from a backfill (no gap of its own). */
  covers(topics: readonly string[], cursor: number): boolean {
    return cursor >= this.#floor && this.#history.covers(topics, cursor);
  }

  since(topics: readonly string[], cursor: number): SinceResult<HistoryEntry> {
    if (this.covers(topics, cursor)) return this.#history.since(topics, cursor);
    const backfill = this.#take(topics, cursor);
    if (backfill) {
      // Joins seamlessly: the backfill holds (cursor, upTo], the replica everything after upTo.
      const wanted = isAll(topics) ? backfill.entries : backfill.entries.filter((e) => topics.includes(e.topic));
      const rest = this.#history.since(topics, backfill.upTo).entries;
      return { entries: [...wanted, ...rest], gaps: backfill.evicted ? [...topics] : [] };
    }
    const result = this.#history.since(topics, cursor);
    return cursor < this.#floor ? { entries: result.entries, gaps: ["*"] } : result;
  }

  /**
   * Holds a backfill for the next `since` from its cursor covering its topics; returns the
   * function that drops it (if not taken by then), so memory is held only until the plan.
   */
  hold(backfill: Backfill): () => void {
    let list = this.#backfills.get(backfill.cursor);
    if (!list) this.#backfills.set(backfill.cursor, (list = []));
    list.push(backfill);
    this.#held += backfill.entries.length;
    return () => this.#drop(backfill);
  }

  /** Entries held by backfills awaiting their plan (bounded by the caller, see backfill.ts). */
  get held(): number {
    return this.#held;
  }

  /** A held backfill that serves `since(topics, cursor)` (taken: dropped), if one joins the replica. */
  #take(topics: readonly string[], cursor: number): Backfill | undefined {
    const list = this.#backfills.get(cursor);
    if (!list) return undefined;
    const fits = list.find((b) => (isAll(b.topics) || (!isAll(topics) && topics.every((t) => b.topics.includes(t)))) && this.covers(topics, b.upTo));
    if (fits) this.#drop(fits);
    return fits;
  }

  #drop(backfill: Backfill): void {
    const list = this.#backfills.get(backfill.cursor);
    const i = list?.indexOf(backfill) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.#held -= backfill.entries.length;
    if (list.length === 0) this.#backfills.delete(backfill.cursor);
  }

  prune(): void {
    this.#history.prune();
  }
}

/**
 * A stretch of the shared history read from the backplane for one resume (cross-node.ts): the
 * messages of `topics` in (`cursor`, `upTo`] (after the shared history's own gap when `evicted`).
 */
export interface Backfill {
  readonly topics: readonly string[];
  readonly cursor: number;
  /** The replica vouches for everything after this position (checked again when taken). */
  readonly upTo: number;
  /** In seq order, all ≤ `upTo`. */
  readonly entries: readonly HistoryEntry[];
  /** The shared history itself no longer covers `cursor`: one gap per topic at the cursor. */
  readonly evicted: boolean;
}

function isAll(topics: readonly string[]): boolean {
  return topics.length === 1 && topics[0] === "*";
}
