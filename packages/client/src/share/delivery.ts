/**
 * Per-tab delivery of what the leader broadcasts: only this tab's topics, in order, each message
 * once — across leader changes, when a new leader resumes from its cursor and may repeat the tail
 * of the old leader's stream (or a woken old leader repeats messages already delivered).
 */
import type { GapFrame, Message } from "@throughline/wire";
import { isStale } from "../delivery.js";

/** The channel's dedupe rule (ids of another epoch are new: a restarted history). */
export { isStale };

export interface TabDelivery {
  /** The id of the last message seen on the shared stream (any topic): where a new leader resumes. */
  readonly cursor: string | null;
  /** The message if this tab must deliver it, else `undefined` (a duplicate or another tab's topic). */
  message(m: Message): Message | undefined;
  /** Whether this tab must deliver the gap (its topic, or `*`). */
  gap(g: GapFrame): boolean;
}

export function createTabDelivery(topics: readonly string[], cursor: string | null = null): TabDelivery {
  const all = topics.includes("*");
  const mine = new Set(topics);
  let last = cursor;
  return {
    get cursor() {
      return last;
    },
    message(m) {
      if (isStale(m.id, last)) return undefined;
      last = m.id;
      return all || mine.has(m.topic) ? m : undefined;
    },
    gap: (g) => all || g.topic === "*" || mine.has(g.topic),
  };
}

/** The union of every tab's topics (`*` absorbs the rest), sorted so equal unions compare equal. */
export function unionTopics(lists: Iterable<readonly string[]>): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const t of l) set.add(t);
  return set.has("*") ? ["*"] : [...set].sort();
}
