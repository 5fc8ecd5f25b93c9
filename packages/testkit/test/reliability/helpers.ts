/**
 * Reliability test helpers: the checker of the "nothing lost" property. The forwarder (cut,
 * pause, retarget) lives in `@throughline/testkit` so `npm run soak` shares it.
 */
export { startForwarder, type Forwarder } from "@throughline/testkit";

/** What the application saw, in order. */
export type Seen = { readonly kind: "msg"; readonly topic: string; readonly n: number; readonly id: string } | { readonly kind: "gap"; readonly topic: string };

/**
 * The property: per topic, the application saw the published sequence (numbers 0, 1, 2, …)
 * exactly once and in order, except that messages may be missing where a gap event for the topic
 * (or `*`) was delivered between the message before and the message after them. Returns a list
 * of violations (empty: the property holds).
 */
export function checkNothingLost(published: ReadonlyMap<string, number>, seen: readonly Seen[]): string[] {
  const problems: string[] = [];
  for (const [topic, count] of published) {
    let expected = 0;
    let gapSinceLast = false;
    for (const e of seen) {
      if (e.kind === "gap") {
        if (e.topic === topic || e.topic === "*") gapSinceLast = true;
        continue;
      }
      if (e.topic !== topic) continue;
      if (e.n < expected) problems.push(`${topic}: duplicate or out of order #${e.n} (expected #${expected})`);
      else if (e.n > expected && !gapSinceLast) problems.push(`${topic}: lost #${expected}..#${e.n - 1} without a gap event`);
      expected = Math.max(expected, e.n + 1);
      gapSinceLast = false;
    }
    if (expected < count) problems.push(`${topic}: lost #${expected}..#${count - 1} at the end`);
  }
  return problems;
}

/** Number of gap events seen. */
export function gapCount(seen: readonly Seen[]): number {
  return seen.filter((e) => e.kind === "gap").length;
}
