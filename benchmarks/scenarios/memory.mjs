/**
 * Memory per idle connection: a fresh server, its RSS and V8 heap after a full GC with no
 * subscriber, then after N idle subscribers (N ascending on the same server). Growth / N is the
 * cost of one connection; nothing is published, so no message buffer is counted.
 */
import { Fleet } from "../lib/fleet.mjs";
import { result, sleep, status, step } from "../lib/progress.mjs";

/** Time for connections to settle (handshake buffers freed, first heartbeats) before measuring. */
export const SETTLE_MS = 1_000;

/** @returns {Promise<object[]>} rows */
export async function runMemory(system, opts) {
  const out = [];
  const fleet = new Fleet(system, { clientMode: opts.clientMode, pin: opts.pin });
  step(`${system.label}: memory per idle connection (${opts.levels.join(", ")})`);
  try {
    await fleet.start();
    await sleep(200);
    const base = await fleet.stats(true);
    for (const n of [...opts.levels].sort((a, b) => a - b)) {
      const g = await fleet.grow(n, (s) => status(`${system.id}: ${s}`));
      await sleep(SETTLE_MS);
      const s = await fleet.stats(true);
      const open = fleet.open;
      const row = {
        scenario: "memory",
        system: system.id,
        n,
        open,
        failed: g.failed,
        rssPerConn: (s.rss - base.rss) / open,
        heapPerConn: (s.heapUsed - base.heapUsed) / open,
        // Buffers outside the heap (socket read/write buffers held by Node).
        externalPerConn: (s.external - base.external) / open,
        rss: s.rss,
        baseRss: base.rss,
      };
      out.push(row);
      result(`${system.id} N=${n}: ${(row.rssPerConn / 1024).toFixed(1)} KB RSS, ${(row.heapPerConn / 1024).toFixed(1)} KB heap per connection (${open} open)`);
    }
  } catch (err) {
    result(`${system.id}: memory FAILED: ${err instanceof Error ? err.message : err}`);
    out.push({ scenario: "error", system: system.id, stage: "memory", message: String(err instanceof Error ? err.message : err) });
  } finally {
    await fleet.stop();
  }
  return out;
}
