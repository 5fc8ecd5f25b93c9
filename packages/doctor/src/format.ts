/**
 * Human output of a report: one block per transport, then the verdict and the fixes. Colour
 * is ANSI and optional (`--no-color`, `NO_COLOR`, or not a terminal).
 */
import type { DoctorReport, TransportReport } from "./report.js";
import { upgradeText } from "./verdict.js";

export interface Paint {
  readonly ok: (s: string) => string;
  readonly bad: (s: string) => string;
  readonly warn: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const COLOURS: Paint = Object.freeze({ ok: ansi(32), bad: ansi(31), warn: ansi(33), dim: ansi(2), bold: ansi(1) });
const id = (s: string) => s;
export const PLAIN: Paint = Object.freeze({ ok: id, bad: id, warn: id, dim: id, bold: id });

const HEADER_NAMES: Record<string, string> = { "x-throughline": "X-Throughline", "x-accel-buffering": "X-Accel-Buffering", "cf-ray": "CF-Ray" };
const headerName = (h: string) => HEADER_NAMES[h] ?? h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

function block(r: TransportReport, p: Paint): string[] {
  const mark = r.outcome === "proven" ? (r.cut || r.buffering ? p.warn("▲") : p.ok("✔")) : p.bad("✖");
  const tries = r.tries !== undefined && r.tries > 1 ? p.dim(` (try ${r.tries})`) : "";
  const head = `${mark} ${p.bold(r.transport.padEnd(10))}${r.outcome === "proven" ? `proven in ${r.provenMs} ms` : r.outcome}${tries}`;
  const lines = [head];
  const who = r.answeredBy === "throughline" ? "the Throughline server" : r.answeredBy === "intermediary" ? p.warn("an intermediary (no X-Throughline marker)") : p.bad("nobody");
  const reach = r.reachable ? `${r.status === undefined ? "answered" : `HTTP ${r.status}`} from ${who}` : p.bad("unreachable (no answer)");
  const times = [r.ttfbMs !== undefined ? `TTFB ${r.ttfbMs} ms` : "", r.helloMs !== undefined ? `hello ${r.helloMs} ms` : ""].filter(Boolean).join(" · ");
  lines.push(`    reached    ${reach}${times ? p.dim(` · ${times}`) : ""}`);
  const hs = Object.entries(r.headers).filter(([k]) => k !== "x-throughline" && k !== "cache-control" && k !== "content-length");
  if (hs.length > 0) lines.push(`    headers    ${hs.map(([k, v]) => `${headerName(k)}: ${v}`).join(p.dim(" · "))}`);
  if (r.upgrade) {
    const u = r.upgrade;
    const text = u.result === "accepted" ? p.ok("101 Switching Protocols") : p.bad(upgradeText(u));
    lines.push(`    upgrade    ${text}`);
  }
  lines.push(`    buffering  ${r.buffering ? p.bad(`${r.buffering.kind}: ${r.buffering.detail}`) : r.outcome === "proven" ? p.ok("none (hello and probe arrived separately, on time)") : p.dim("n/a")}`);
  if (r.outcome !== "proven") lines.push(`    reason     ${p.dim(r.reason)}`);
  if (r.watch) {
    const w = r.watch;
    const late = w.maxLatenessMs > 1_000 ? p.bad : p.ok;
    lines.push(`    watch      ${w.ms} ms: ${w.heartbeats} heartbeat(s) (every ${w.heartbeatMs} ms), lateness ${late(`${w.maxLatenessMs} ms`)}, ${w.bursts} burst(s)${w.roundTripMs !== undefined ? `, round trip ${w.roundTripMs} ms` : ""}`);
  }
  if (r.cut) lines.push(`    cut        ${p.bad(`after ${r.cut.afterMs} ms`)} (${r.cut.kind === "idle" ? "idle timeout" : r.cut.kind === "fixed" ? "fixed duration" : "idle timeout or fixed duration"}; quiet ${r.cut.quietMs} ms before)`);
  else if (r.watch) lines.push(`    cut        ${p.ok("no")}`);
  if (r.closedByServer) lines.push(`    closed     by the server: ${r.closedByServer.code} ${r.closedByServer.reason}`);
  return lines;
}

/** The report as text for a terminal. */
export function formatReport(report: DoctorReport, p: Paint = PLAIN): string {
  const v = report.verdict;
  const out = [`${p.bold("throughline doctor")} ${report.url}`, p.dim(`  ${report.runtime} · ${report.startedAt}`), ""];
  for (const r of report.transports) out.push(...block(r, p), "");
  const health = v.health === "healthy" ? p.ok("HEALTHY") : v.health === "degraded" ? p.warn("DEGRADED") : p.bad("FAILING");
  out.push(`${p.bold("verdict")}    ${health}: ${v.pick ? `the negotiator would pick ${p.bold(v.pick)}` : "no transport gets through"}`);
  for (const w of v.why) out.push(`    ${w}`);
  if (v.intermediary) out.push(`${p.bold("between")}    ${v.intermediary.name} (${v.intermediary.evidence})`);
  if (v.fixes.length > 0) {
    out.push(p.bold("fixes"));
    for (const f of v.fixes) out.push(`    [${f.problem}] ${p.dim(`${f.where}:`)} ${f.text}`);
  }
  return out.join("\n") + "\n";
}
