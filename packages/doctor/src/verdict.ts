/**
 * The verdict: which transport the negotiator would pick and why, what is wrong, how healthy
 * the path is, and the fixes for the intermediary recognised.
 */
import type { TransportName } from "@throughline/wire";
import { fixesFor } from "./fixes.js";
import { recognise } from "./intermediary.js";
import type { Fix, Health, Problem, TransportReport, UpgradeResult, Verdict } from "./report.js";

/**
 * A cut of a stream that was quiet since it opened fits both an idle timeout and a maximum
 * duration. The WebSocket watch keeps traffic flowing, so it tells them apart: it survived
 * longer → the limit is on idleness; it was cut after about as long → a fixed duration.
 */
export function settleCuts(reports: readonly TransportReport[]): TransportReport[] {
  const ws = reports.find((r) => r.transport === "websocket" && r.watch);
  return reports.map((r) => {
    if (!r.cut || r.cut.kind !== "idle-or-fixed" || !ws || ws === r) return r;
    const wsCut = ws.cut;
    const wsLived = wsCut ? wsCut.afterMs : (ws.provenMs ?? 0) + ws.watch!.ms;
    if (!wsCut && wsLived > r.cut.afterMs * 1.2) return { ...r, cut: { ...r.cut, kind: "idle" as const } };
    if (wsCut && wsCut.kind === "fixed" && Math.abs(wsCut.afterMs - r.cut.afterMs) <= 0.3 * Math.max(wsCut.afterMs, r.cut.afterMs)) {
      return { ...r, cut: { ...r.cut, kind: "fixed" as const } };
    }
    return r;
  });
}

/** What happened to a WebSocket upgrade that did not go through. */
export function upgradeText(up: UpgradeResult): string {
  if (up.result === "refused") {
    return up.byServer && up.status === 426
      ? "the Upgrade header was stripped on the way (the server saw a plain GET, 426)"
      : `upgrade refused with HTTP ${up.status} by ${up.byServer ? "the Throughline server" : "an intermediary"}`;
  }
  return up.result === "closed-after-upgrade" ? "upgraded (101), then closed before any data" : "the upgrade failed (no answer the runtime would show)";
}

/** One line on what happened to a transport. */
export function summary(r: TransportReport): string {
  if (r.outcome === "proven") {
    const extra = r.cut ? `, then cut after ${r.cut.afterMs} ms (${r.cut.kind})` : r.buffering ? `, but ${r.buffering.detail}` : "";
    return `${r.transport}: proven in ${r.provenMs} ms${extra}`;
  }
  if (r.buffering) return `${r.transport}: ${r.outcome}: ${r.buffering.detail}`;
  const up = r.upgrade;
  if (up && up.result !== "accepted") return `${r.transport}: ${r.outcome}: ${upgradeText(up)}`;
  if (r.status !== undefined && r.status !== 200 && r.answeredBy === "intermediary") {
    return `${r.transport}: ${r.outcome}: HTTP ${r.status} from an intermediary${r.headers.server ? ` (Server: ${r.headers.server})` : ""}, not the Throughline server`;
  }
  return `${r.transport}: ${r.outcome}: ${r.reason}`;
}

function problemsOf(reports: readonly TransportReport[]): Problem[] {
  const out = new Set<Problem>();
  for (const r of reports) {
    if (r.buffering) out.add(r.buffering.kind === "compressed" ? "compression" : "buffering");
    if (r.transport === "websocket" && r.outcome !== "proven" && r.outcome !== "rejected") out.add("websocket");
    if (r.cut) out.add("cut");
    if (r.outcome === "rejected") out.add("rejected");
    else if (r.outcome === "blocked" && r.answeredBy === "intermediary" && r.transport !== "websocket") out.add("blocked");
  }
  return [...out];
}

export function verdictOf(reports: readonly TransportReport[]): Verdict {
  const pickReport = reports.find((r) => r.outcome === "proven");
  const pick: TransportName | null = pickReport ? pickReport.transport : null;
  const why: string[] = [];
  for (const r of reports) {
    why.push(summary(r));
    if (r === pickReport) break;
  }
  const problems = problemsOf(reports);
  const intermediary = recognise(reports);
  const idleCuts = reports.flatMap((r) => (r.cut && r.cut.kind !== "fixed" ? [r.cut.quietMs] : []));
  const fixes: Fix[] = fixesFor(problems.filter((p) => p !== "rejected"), intermediary, idleCuts.length > 0 ? Math.min(...idleCuts) : undefined);
  if (problems.includes("rejected")) {
    fixes.unshift({ problem: "rejected", where: "your credentials", text: "the Throughline server itself refused (401/403): pass a valid --token or --header" });
  }
  let health: Health;
  if (!pickReport) health = "failing";
  else health = pickReport === reports[0] && !pickReport.cut && !pickReport.buffering ? "healthy" : "degraded";
  return { health, pick, why, problems, intermediary, fixes };
}
