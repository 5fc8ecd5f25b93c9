/**
 * Derived figures shared by the table, the chart and the README: pivots of the raw rows and the
 * headline ratios against the limits (raw ws, raw SSE writer) with the targets of the issue.
 * Targets are reported, never asserted.
 */
import { SYSTEMS } from "../systems.mjs";

export const label = (id) => SYSTEMS.find((s) => s.id === id)?.label ?? id;

/** Fan-out conditions in run order: `{ key, n, size, max }`. */
export function fanoutConditions(rows) {
  const seen = new Map();
  for (const r of rows) {
    if (r.scenario !== "fanout") continue;
    const key = `${r.max ? "max" : r.n}/${r.size}`;
    if (!seen.has(key)) seen.set(key, { key, n: r.max ? "max" : r.n, size: r.size, max: !!r.max });
  }
  return [...seen.values()];
}

export const conditionKey = (r) => `${r.max ? "max" : r.n}/${r.size}`;

export function conditionLabel(c) {
  const size = c.size >= 1024 ? `${c.size / 1024} KB` : `${c.size} B`;
  return `N=${c.max ? "max" : c.n.toLocaleString("en-US")}, ${size}`;
}

const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN);

/** Throughline system → its limit, for ratios. */
const PAIRS = [
  ["throughline-ws", "raw-ws", 0.85, "Throughline WebSocket fan-out within 15% of raw ws"],
  ["throughline-sse", "raw-sse", 0.85, "Throughline SSE fan-out within 15% of raw SSE writer"],
];

/**
 * @returns {{ text: string, value: number, target: string, met: boolean|undefined }[]}
 */
export function headlines(rows) {
  const out = [];
  const fan = rows.filter((r) => r.scenario === "fanout");
  for (const [sys, limit, min, text] of PAIRS) {
    const ratios = [];
    for (const r of fan.filter((x) => x.system === sys)) {
      const l = fan.find((x) => x.system === limit && conditionKey(x) === conditionKey(r) && (r.max || x.n === r.n));
      if (l && l.msgsPerSec > 0 && r.msgsPerSec > 0) ratios.push(r.msgsPerSec / l.msgsPerSec);
    }
    const g = geomean(ratios);
    out.push({ text, value: g, shown: Number.isFinite(g) ? `${(g * 100).toFixed(0)}% of the limit (geometric mean of ${ratios.length} conditions, min ${(Math.min(...ratios) * 100).toFixed(0)}%)` : "not measured", met: Number.isFinite(g) ? g >= min : undefined });
  }
  const mem = rows.filter((r) => r.scenario === "memory");
  const memOf = (sys) => mem.filter((r) => r.system === sys).sort((a, b) => b.n - a.n)[0];
  const tlMem = ["throughline-sse", "throughline-ws", "throughline-poll"].map(memOf).filter(Boolean);
  const sioMem = ["socketio-ws", "socketio-polling"].map(memOf).filter(Boolean);
  if (tlMem.length && sioMem.length) {
    const worstTl = tlMem.reduce((a, b) => (b.rssPerConn > a.rssPerConn ? b : a));
    const bestSio = sioMem.reduce((a, b) => (b.rssPerConn < a.rssPerConn ? b : a));
    out.push({
      text: "Memory per idle connection no worse than Socket.IO's",
      shown: `worst Throughline ${(worstTl.rssPerConn / 1024).toFixed(1)} KB (${label(worstTl.system)}) vs best Socket.IO ${(bestSio.rssPerConn / 1024).toFixed(1)} KB (${label(bestSio.system)}) RSS at N=${worstTl.n}`,
      met: worstTl.rssPerConn <= bestSio.rssPerConn,
    });
  } else out.push({ text: "Memory per idle connection no worse than Socket.IO's", shown: "not measured", met: undefined });
  const size = rows.filter((r) => r.scenario === "size" && !r.error);
  const tl = size.find((r) => r.system === "@throughline/client");
  const sio = size.find((r) => r.system === "socket.io-client");
  out.push({
    text: "Browser client smaller than socket.io-client",
    shown: tl && sio ? `${(tl.gzip / 1024).toFixed(1)} KB vs ${(sio.gzip / 1024).toFixed(1)} KB min+gzip (${((tl.gzip / sio.gzip) * 100).toFixed(0)}%)` : "not measured",
    met: tl && sio ? tl.gzip < sio.gzip : undefined,
  });
  return out;
}
