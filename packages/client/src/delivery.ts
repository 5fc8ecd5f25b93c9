/**
 * Delivery to the application: the cursor, dedupe and gaps. Every link of a round, a switch or
 * a rotation streams contiguously from the cursor it started with, and ids carry one global
 * sequence per epoch, so "deliver only what is newer than the cursor" merges any number of
 * overlapping links into one stream with neither loss nor duplicate.
 */
import { parseId, type GapFrame, type Message, type MessageFrame } from "@throughline/wire";

/** `id` is not newer than `cursor` (same epoch, seq ≤): a duplicate of a resume or an overlap. */
export function isStale(id: string, cursor: string | null): boolean {
  const a = parseId(id);
  const c = parseId(cursor);
  return !!a && !!c && a.epoch === c.epoch && a.seq <= c.seq;
}

export interface Delivery {
  cursor: string | null;
  /** Delivers `f` unless the app already has it. */
  message(f: MessageFrame): void;
  /** Signals a gap unless another link already delivered past it (moving the cursor back would duplicate). */
  gap(f: GapFrame): void;
}

export function delivery(cursor: string | null, onMessage: (m: Message) => void, onGap: (f: GapFrame) => void): Delivery {
  const d: Delivery = {
    cursor,
    message(f) {
      if (isStale(f.id, d.cursor)) return;
      d.cursor = f.id;
      onMessage({ id: f.id, topic: f.topic, event: f.event, data: f.data });
    },
    gap(f) {
      // (Without a cursor nothing is stale.)
      const c = d.cursor;
      if (f.cursor !== c && isStale(f.cursor, c)) return;
      d.cursor = f.cursor;
      onGap(f);
    },
  };
  return d;
}
