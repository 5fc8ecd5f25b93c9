/**
 * The verdict of the multi-node soak (scripts/soak-cluster.mjs) for one client, pure: what it
 * received (messages `{ topic, n, id }` and gap events, in arrival order) against what the
 * publishers know (per topic: `n → id` for every publish Redis confirmed; `n`s whose publish got
 * no answer may or may not exist). Each topic's publisher is sequential, so `n` is the history's
 * order on that topic.
 *
 * - lost: a confirmed message never received, with no gap event before the next one received.
 * - duplicated: an `n` received twice. out of order: an `n` below one already received.
 * - gap: a gap event, then the next message. It is *exact* when the history truly ended there:
 *   every confirmed message it skipped is of an older epoch than the message after it (ids are
 *   `<epoch>-<seq>`), i.e. none of the new epoch was skipped, and, when it skipped nothing, the
 *   message after it does start a new epoch.
 */

const epochOf = (id) => (typeof id === "string" ? id.slice(0, id.lastIndexOf("-")) : undefined);

/**
 * @param {ReadonlyArray<{ kind: "msg", topic: string, n: number, id: string } | { kind: "gap", topic: string, reason: string }>} events
 * @param {ReadonlyMap<string, ReadonlyMap<number, string>>} confirmed topic → (n → id)
 * @param {ReadonlyMap<string, number>} attempts topic → publishes attempted (n runs 0 … attempts-1)
 */
export function analyseClient(events, confirmed, attempts) {
  const r = { delivered: 0, unique: 0, lost: 0, duplicated: 0, outOfOrder: 0, unconfirmedDelivered: 0, gapEvents: 0, gapCovered: 0, gaps: [], lostSamples: [] };
  r.gapEvents = events.filter((e) => e.kind === "gap").length;
  for (const [topic, ids] of confirmed) {
    let last = -1;
    let lastId;
    let gap;
    const seen = new Set();
    const skippedSince = (from, to) => {
      const out = [];
      for (let n = from + 1; n < to; n++) if (ids.has(n)) out.push(n);
      return out;
    };
    const settle = (skipped, nextId, nextN) => {
      if (gap) {
        const nextEpoch = epochOf(nextId);
        const exact = skipped.length > 0 ? skipped.every((n) => epochOf(ids.get(n)) !== nextEpoch) : nextId !== undefined && epochOf(lastId) !== nextEpoch;
        r.gaps.push({ topic, reason: gap.reason, afterN: last, nextN: nextN ?? null, skipped: skipped.length, exact });
        r.gapCovered += skipped.length;
      } else if (skipped.length > 0) {
        r.lost += skipped.length;
        if (r.lostSamples.length < 20) r.lostSamples.push({ topic, from: skipped[0], to: skipped.at(-1), count: skipped.length });
      }
      gap = undefined;
    };
    for (const e of events) {
      if (e.kind === "gap") {
        if (e.topic === topic || e.topic === "*") gap = e;
        continue;
      }
      if (e.topic !== topic) continue;
      r.delivered++;
      if (seen.has(e.n)) {
        r.duplicated++;
        continue;
      }
      seen.add(e.n);
      r.unique++;
      if (!ids.has(e.n)) r.unconfirmedDelivered++;
      if (e.n < last) {
        r.outOfOrder++;
        continue;
      }
      settle(skippedSince(last, e.n), e.id, e.n);
      last = e.n;
      lastId = e.id;
    }
    const trailing = skippedSince(last, attempts.get(topic) ?? 0);
    if (trailing.length > 0 || gap) settle(trailing, ids.get(trailing.at(-1) ?? -1), undefined);
  }
  return r;
}

/** Nearest-rank percentile of a sorted array (undefined when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
