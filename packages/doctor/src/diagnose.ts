/**
 * Turns one probe's raw observations into a `TransportReport`: who answered, which headers,
 * how the stream was held back, what happened to the upgrade, heartbeat lateness and cuts.
 * Pure: tests feed it recorded runs.
 */
import { MARKER_HEADER, MARKER_VALUE, ROUTES } from "@throughline/wire";
import type { ProbeRun } from "./probe.js";
import type { Buffering, Cut, HttpExchange, TransportReport, UpgradeResult, WatchResult } from "./report.js";

/** Heartbeats later than this (ms, relative to the promptest frame) make a connection "late". */
export const LATE_MS = 1_000;

/** The request that carries the transport (the stream, the first poll). */
function mainExchange(run: ProbeRun): HttpExchange | undefined {
  const route = run.transport === "sse" ? ROUTES.sse : run.transport === "long-poll" ? ROUTES.poll : undefined;
  return route === undefined ? undefined : run.exchanges.find((e) => e.route === route);
}

/** Below this, a merged first delivery is not a byte-threshold buffer's block. */
export const SMALLEST_BLOCK_BYTES = 4_096;

const kb = (n: number) => (n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

/** SSE: how the stream was held back, from where the hello and probe landed. */
function sseBuffering(run: ProbeRun, ex: HttpExchange | undefined, timeoutMs: number): Buffering | undefined {
  const { record } = run;
  if (record.outcome === "proven" || record.outcome === "rejected" || record.outcome === "cancelled") return undefined;
  if (!ex || ex.status === undefined) {
    // A request that failed outright is blocked, not held; one aborted at the timeout was held.
    if (record.outcome !== "timeout") return undefined;
    return { kind: "held-until-end", detail: `no status line within ${timeoutMs} ms: the whole response is held until it ends (or the connection is black-holed)` };
  }
  if (ex.status !== 200) return undefined;
  const encoding = ex.headers["content-encoding"];
  if (encoding && encoding !== "identity") {
    return { kind: "compressed", detail: `the stream is compressed on the way (Content-Encoding: ${encoding}) and the compressor holds it until its block fills` };
  }
  if (ex.chunks.length === 0) {
    return { kind: "held-until-bytes", detail: `headers after ${ex.headersMs} ms, then no body within ${timeoutMs} ms although the server writes ≥ 2 KB at once: held until a larger block fills (or the end)` };
  }
  const hello = record.chunks?.hello;
  const probe = record.chunks?.probe;
  if (hello !== undefined && hello > 1 && (probe === undefined || probe === hello)) {
    return { kind: "first-event-held", detail: `the padding arrived alone, then the hello was held until the next event (delivery ${hello}${probe === hello ? ", together with the probe" : ""})` };
  }
  const first = ex.chunks[0]!;
  // A byte-threshold buffer releases blocks of at least its threshold (4 KB and up in practice);
  // a smaller first delivery holding both frames is the hello held until the probe, with the
  // padding merged in by the runtime (browsers coalesce reads the page has not yet taken).
  if (hello === 1 && probe === 1 && first.bytes < SMALLEST_BLOCK_BYTES) {
    return { kind: "first-event-held", detail: `hello and probe arrived together in one small delivery (${kb(first.bytes)} at ${first.atMs} ms): the hello was held until the next event` };
  }
  if (hello === 1 && (probe === undefined || probe === 1)) {
    return { kind: "held-until-bytes", detail: `padding, hello${probe === 1 ? " and probe" : ""} arrived in one delivery of ${kb(first.bytes)} at ${first.atMs} ms: held until N bytes` };
  }
  return { kind: "held-until-bytes", detail: `the probe was held back (${record.reason})` };
}

function upgradeOf(run: ProbeRun): UpgradeResult | undefined {
  if (run.transport !== "websocket") return undefined;
  const up = run.upgrade.upgrade;
  if (!up) return { result: "failed" };
  if (up.result === "accepted" && run.record.outcome !== "proven" && run.record.helloMs === undefined) {
    return { ...up, result: "closed-after-upgrade" };
  }
  return up;
}

/** Activity times (ms from the probe's start) and the cut, if the connection ended without a close frame. */
function cutOf(run: ProbeRun): Cut | undefined {
  const c = run.closed;
  if (!c || (c.info.code !== 1006 && c.info.code !== 1005)) return undefined;
  const times = [0, ...run.arrivals.map((a) => a.atMs), ...run.sends].filter((t) => t <= c.atMs).sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
  const quietMs = c.atMs - times[times.length - 1]!;
  // Cut although it had survived a longer silence, or soon after data: a maximum duration.
  const kind = quietMs < longest || quietMs < c.atMs / 2 ? "fixed" : "idle-or-fixed";
  return { afterMs: Math.round(c.atMs), quietMs: Math.round(quietMs), kind, code: c.info.code };
}

function watchOf(run: ProbeRun): WatchResult | undefined {
  if (run.watchFromMs === undefined || run.watchToMs === undefined || !run.hello) return undefined;
  const live = run.arrivals.filter((a) => a.atMs > run.watchFromMs! && a.serverTime !== undefined);
  const offsets = live.map((a) => a.atMs - a.serverTime!);
  const min = Math.min(...offsets);
  const maxLatenessMs = offsets.length === 0 ? 0 : Math.round(Math.max(...offsets) - min);
  const byDelivery = new Map<number, number[]>();
  for (const a of live) byDelivery.set(a.delivery, [...(byDelivery.get(a.delivery) ?? []), a.serverTime!]);
  const bursts = [...byDelivery.values()].filter((t) => t.length > 1 && Math.max(...t) - Math.min(...t) >= 50).length;
  const echoes = live.filter((a) => a.type === "probe").map((a) => a.atMs);
  const rtts = echoes.slice(0, run.sends.length).map((t, i) => t - run.sends[i]!).sort((a, b) => a - b);
  return {
    ms: Math.round(run.watchToMs - run.watchFromMs),
    heartbeatMs: run.hello.heartbeatMs,
    heartbeats: live.filter((a) => a.type === "heartbeat").length,
    maxLatenessMs,
    bursts,
    roundTripMs: rtts.length > 0 ? Math.round(rtts[Math.floor(rtts.length / 2)]!) : undefined,
  };
}

export function diagnose(run: ProbeRun, timeoutMs: number): TransportReport {
  const { record } = run;
  const ex = mainExchange(run);
  const upgrade = upgradeOf(run);
  const status = run.transport === "websocket" ? upgrade?.status : ex?.status;
  const headers = run.transport === "websocket" ? (upgrade?.headers ?? {}) : (ex?.headers ?? {});
  const marked = run.transport === "websocket" ? upgrade?.byServer === true || record.helloMs !== undefined : headers[MARKER_HEADER] === MARKER_VALUE;
  const reachable = status !== undefined || record.openedMs !== undefined;
  const watch = watchOf(run);
  let buffering = run.transport === "sse" ? sseBuffering(run, ex, timeoutMs) : undefined;
  if (!buffering && watch && watch.maxLatenessMs > LATE_MS) {
    buffering = { kind: "late", detail: `heartbeats up to ${watch.maxLatenessMs} ms late${watch.bursts > 0 ? `, ${watch.bursts} burst(s)` : ""}` };
  }
  const closed = run.closed;
  return {
    transport: run.transport,
    outcome: record.outcome,
    reason: record.reason.replace(/^Throughline: /, ""),
    reachable,
    status,
    answeredBy: !reachable ? "none" : marked ? "throughline" : "intermediary",
    headers,
    ttfbMs: run.transport === "websocket" ? (run.upgrade.openMs === undefined ? undefined : Math.round(run.upgrade.openMs)) : ex?.headersMs === undefined ? undefined : Math.round(ex.headersMs),
    helloMs: record.helloMs === undefined ? undefined : Math.round(record.helloMs),
    provenMs: record.provenMs === undefined ? undefined : Math.round(record.provenMs),
    buffering,
    upgrade,
    watch,
    cut: cutOf(run),
    closedByServer: closed && closed.info.code !== 1006 && closed.info.code !== 1005 ? { code: closed.info.code, reason: closed.info.reason } : undefined,
  };
}
