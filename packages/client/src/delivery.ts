/**
 * Delivery to the application: the dedupe rule of the channel's cursor (channel.ts delivers and
 * signals gaps through it). Every link of a round, a switch or a rotation streams contiguously
 * from the cursor it started with, and ids carry one global sequence per epoch, so "deliver only
 * what is newer than the cursor" merges any number of overlapping links into one stream with
 * neither loss nor duplicate.
 */
import { parseId } from "@throughline/wire";

/** `id` is not newer than `cursor` (same epoch, seq ≤): a duplicate of a resume or an overlap. */
export function isStale(id: string, cursor: string | null): boolean {
  const a = parseId(id);
  const c = parseId(cursor);
  return !!a && !!c && a.epoch === c.epoch && a.seq <= c.seq;
}
