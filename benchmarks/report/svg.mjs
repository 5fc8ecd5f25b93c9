/**
 * A hand-written SVG (no dependencies) of the results: one grouped bar chart per figure, stacked
 * vertically, each bar labelled with its value, for a README or a blog post. Systems keep the same
 * colour in every panel; the limits (raw ws, raw SSE writer) are grey.
 */
import { conditionKey, fanoutConditions, label } from "./summary.mjs";

const W = 1000;
const PANEL_H = 280;
const M = { top: 56, right: 20, bottom: 40, left: 70 };

const COLORS = {
  "throughline-sse": "#0b7285",
  "throughline-ws": "#1c7ed6",
  "throughline-poll": "#74c0fc",
  "raw-ws": "#868e96",
  "raw-sse": "#495057",
  "socketio-ws": "#e8590c",
  "socketio-polling": "#ffa94d",
  "better-sse": "#9c36b5",
  throughline: "#1c7ed6",
  socketio: "#e8590c",
  "@throughline/client": "#1c7ed6",
  "socket.io-client": "#e8590c",
  "@microsoft/signalr": "#5f3dc4",
  "sockjs-client": "#2f9e44",
  centrifuge: "#c2255c",
};
const PALETTE = ["#1c7ed6", "#e8590c", "#2f9e44", "#9c36b5", "#c2255c", "#f08c00", "#0b7285", "#495057"];
const colorOf = (series, i) => COLORS[series] ?? PALETTE[i % PALETTE.length];

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function short(x) {
  if (!Number.isFinite(x)) return "";
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A "nice" axis maximum ≥ v. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * One panel. `groups`: `[{ label, bars: [{ series, value, note? }] }]`; `series`: `[{ id, label }]`.
 * @returns {string} SVG elements translated to `y`
 */
export function panel({ title, unit, groups, series, y, lowerIsBetter, ownLegend }) {
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const max = niceMax(Math.max(0, ...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)))));
  const out = [`<g transform="translate(0,${y})">`];
  out.push(`<text x="${M.left}" y="22" class="title">${esc(title)}</text>`);
  out.push(`<text x="${M.left}" y="40" class="sub">${esc(unit)}${lowerIsBetter ? " — lower is better" : " — higher is better"}</text>`);
  // Own legend (series that are not the systems of the shared legend), right of the title.
  if (ownLegend) {
    let lx = W - M.right;
    for (let i = series.length - 1; i >= 0; i--) {
      const s = series[i];
      lx -= 16 + s.label.length * 6.4;
      out.push(`<rect x="${lx}" y="14" width="10" height="10" fill="${colorOf(s.id, i)}"/><text x="${lx + 13}" y="23" class="legend">${esc(s.label)}</text>`);
      lx -= 8;
    }
  }
  // Axis and grid.
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    const gy = M.top + plotH - (plotH * k) / 4;
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${gy}" y2="${gy}" class="grid"/>`);
    out.push(`<text x="${M.left - 6}" y="${gy + 4}" class="axis" text-anchor="end">${short(v)}</text>`);
  }
  const gw = plotW / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const present = series.filter((s) => g.bars.some((b) => b.series === s.id));
    const bw = Math.min(36, (gw * 0.8) / Math.max(1, present.length));
    const x0 = M.left + gi * gw + (gw - bw * present.length) / 2;
    present.forEach((s, si) => {
      const b = g.bars.find((bb) => bb.series === s.id);
      const x = x0 + si * bw;
      const ok = Number.isFinite(b.value);
      const h = ok ? (plotH * b.value) / max : 0;
      const color = colorOf(s.id, series.indexOf(s));
      out.push(`<rect x="${x.toFixed(1)}" y="${(M.top + plotH - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${esc(`${s.label}, ${g.label}: ${ok ? short(b.value) : "n/a"} ${unit}`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(M.top + plotH - h - 4).toFixed(1)}" class="val" text-anchor="middle">${ok ? short(b.value) : "×"}</text>`);
    });
    out.push(`<text x="${(M.left + gi * gw + gw / 2).toFixed(1)}" y="${M.top + plotH + 18}" class="group" text-anchor="middle">${esc(g.label)}</text>`);
  });
  out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" class="base"/>`);
  out.push("</g>");
  return out.join("\n");
}

function seriesOf(rows, scenario, labeller = label) {
  return [...new Set(rows.filter((r) => r.scenario === scenario).map((r) => r.system))].map((id) => ({ id, label: labeller(id) }));
}

/** The panels that have data, from the results document. */
export function panels(doc) {
  const rows = doc.results;
  const ps = [];
  const conds = fanoutConditions(rows);
  // One panel per subscriber count: messages/s differ by orders of magnitude between counts.
  for (const n of [...new Set(conds.map((c) => c.n))]) {
    const cs = conds.filter((c) => c.n === n);
    const held = n === "max" ? rows.find((r) => r.scenario === "fanout" && r.max)?.open : n;
    ps.push({
      title: `Fan-out throughput, ${n === "max" ? `as many subscribers as held (${held?.toLocaleString("en-US")})` : `${n.toLocaleString("en-US")} subscribers`}`,
      unit: "messages/s delivered to every subscriber",
      series: seriesOf(rows, "fanout"),
      groups: cs.map((c) => ({
        label: c.size >= 1024 ? `${c.size / 1024} KB payload` : `${c.size} B payload`,
        bars: rows.filter((r) => r.scenario === "fanout" && conditionKey(r) === c.key).map((r) => ({ series: r.system, value: r.msgsPerSec })),
      })),
    });
  }
  const rate = rows.filter((r) => r.scenario === "rate");
  if (rate.length) {
    ps.push({
      title: `Publish→receive latency (N=${rate[0].n.toLocaleString("en-US")}, ${rate[0].rate} msg/s)`,
      unit: "ms",
      lowerIsBetter: true,
      series: seriesOf(rows, "rate"),
      groups: ["p50", "p99"].map((q) => ({ label: q, bars: rate.map((r) => ({ series: r.system, value: r[q] })) })),
    });
    ps.push({
      title: "Server CPU per delivered message",
      unit: "µs of CPU",
      lowerIsBetter: true,
      series: seriesOf(rows, "rate"),
      groups: [
        { label: `fixed rate (${rate[0].rate} msg/s, N=${rate[0].n.toLocaleString("en-US")})`, bars: rate.map((r) => ({ series: r.system, value: r.cpuUsPerDelivery })) },
        {
          label: "full fan-out (N=1,000, 64 B)",
          bars: rows.filter((r) => r.scenario === "fanout" && r.n === 1000 && r.size === 64 && !r.max).map((r) => ({ series: r.system, value: r.cpuUsPerDelivery })),
        },
      ].filter((g) => g.bars.length),
    });
  }
  const mem = rows.filter((r) => r.scenario === "memory");
  if (mem.length) {
    const ns = [...new Set(mem.map((r) => r.n))].sort((a, b) => a - b);
    ps.push({
      title: "Server memory per idle connection",
      unit: "KB of RSS growth per connection",
      lowerIsBetter: true,
      series: seriesOf(rows, "memory"),
      groups: ns.map((n) => ({ label: `N=${n.toLocaleString("en-US")}`, bars: mem.filter((r) => r.n === n).map((r) => ({ series: r.system, value: r.rssPerConn / 1024 })) })),
    });
  }
  const ttfm = rows.filter((r) => r.scenario === "ttfm" && ["throughline", "socketio"].includes(r.system));
  if (ttfm.length) {
    const nets = [...new Set(ttfm.map((r) => r.network))];
    ps.push({
      title: "Time to first message from connect()",
      unit: "ms, median (× = no message)",
      lowerIsBetter: true,
      ownLegend: true,
      series: [
        { id: "throughline", label: "Throughline (negotiated)" },
        { id: "socketio", label: "Socket.IO (default)" },
      ],
      groups: nets.map((n) => ({ label: n, bars: ttfm.filter((r) => r.network === n).map((r) => ({ series: r.system, value: r.ok ? r.median : NaN })) })),
    });
  }
  const size = rows.filter((r) => r.scenario === "size" && !r.error);
  if (size.length) {
    ps.push({
      title: "Browser client size",
      unit: "KB, minified + gzip -9",
      lowerIsBetter: true,
      ownLegend: true,
      series: size.map((r) => ({ id: r.system, label: r.system })),
      groups: [
        { label: "esbuild, one-line entry", bars: size.map((r) => ({ series: r.system, value: r.gzip / 1024 })) },
        // Rows written before the terser measure existed have none: NaN bars are left out.
        { label: "+ terser", bars: size.map((r) => ({ series: r.system, value: r.terserGzip === undefined ? NaN : r.terserGzip / 1024 })) },
      ],
    });
  }
  return ps;
}

/** @param {{ meta: object, results: object[] }} doc @returns {string} the SVG document */
export function renderSvg(doc) {
  const ps = panels(doc);
  const m = doc.meta ?? {};
  // One legend for the systems, shared by every panel (same colour everywhere), wrapped in rows.
  const systems = [];
  for (const p of ps) if (!p.ownLegend) for (const s of p.series) if (!systems.some((x) => x.id === s.id)) systems.push(s);
  const legend = [];
  let x = M.left;
  let ly = 70;
  systems.forEach((s, i) => {
    const w = 24 + s.label.length * 6.4;
    if (x + w > W - M.right) {
      x = M.left;
      ly += 18;
    }
    legend.push(`<rect x="${x}" y="${ly - 9}" width="10" height="10" fill="${colorOf(s.id, i)}"/><text x="${x + 13}" y="${ly}" class="legend">${esc(s.label)}</text>`);
    x += w;
  });
  const head = systems.length ? ly + 14 : 54;
  const H = head + ps.length * PANEL_H + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`,
    "<style>.title{font-size:16px;font-weight:600;fill:#212529}.sub{font-size:12px;fill:#868e96}.legend{font-size:11px;fill:#343a40}.axis{font-size:11px;fill:#868e96}.group{font-size:12px;fill:#343a40}.val{font-size:10px;fill:#495057}.grid{stroke:#e9ecef}.base{stroke:#adb5bd}.h1{font-size:20px;font-weight:700;fill:#212529}.meta{font-size:12px;fill:#868e96}</style>",
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="28" class="h1">Throughline benchmarks</text>`,
    `<text x="${M.left}" y="46" class="meta">${esc(`${m.date ?? ""} · Node ${m.node ?? ""} · ${m.cpus ?? "?"} cores (${m.cpuModel ?? ""}) · server and load clients in separate processes on loopback${m.pinning ? (m.pinning.enabled ? ` · server on core ${m.pinning.server}, clients on ${m.pinning.clients}` : " · not pinned") : ""}`)}</text>`,
    ...legend,
  ];
  ps.forEach((p, i) => parts.push(panel({ ...p, y: head + i * PANEL_H })));
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
