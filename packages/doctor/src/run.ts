/**
 * `runDoctor`: probes every transport (in parallel, each as the negotiator would), watches the
 * proven ones, and returns the report with its verdict. Runtime-neutral: the browser page and
 * the CLI (`node.ts` adds `ws`) both call it.
 */
import { SYSTEM_CLOCK, type AttemptRecord, type Clock, type WebSocketConstructor } from "@throughline/client";
import { longPoll, sse, websocket } from "@throughline/client/internal";
import { TRANSPORTS, ThroughlineError, type TransportName } from "@throughline/wire";
import { diagnose } from "./diagnose.js";
import type { UpgradeLog } from "./observe.js";
import { probeTransport, type ProbeEnv } from "./probe.js";
import type { DoctorReport } from "./report.js";
import { settleCuts, verdictOf } from "./verdict.js";

export interface DoctorOptions {
  /** Base URL of the Throughline path, e.g. `https://api.example.com/realtime`. */
  readonly url: string;
  /** Topics to subscribe while probing. @default ["doctor"] */
  readonly topics?: readonly string[];
  /** Sent as `Authorization: Bearer <token>` (WebSocket: traded for a ticket). @default undefined */
  readonly token?: string | undefined;
  /** Extra request headers (fetch transports and the ticket exchange). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** Transports to probe, in the negotiator's order of preference. @default ["sse", "websocket", "long-poll"] */
  readonly transports?: readonly TransportName[];
  /** A transport not proven within this many ms fails. @default 5000 */
  readonly timeoutMs?: number;
  /** How long to watch each proven connection for lateness and cuts, in ms. @default 15000 */
  readonly watchMs?: number;
  /** WebSocket watch: a client probe every this many ms (keeps it busy both ways). @default 500 */
  readonly busyMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Makes the WebSocket constructor for one probe. @default globalThis.WebSocket (none: the probe fails) */
  readonly webSocket?: ((log: UpgradeLog) => WebSocketConstructor) | undefined;
  /** @default SYSTEM_CLOCK */
  readonly clock?: Clock;
  /** Called with a short line as each probe moves on. @default no-op */
  readonly onProgress?: ((line: string) => void) | undefined;
  /** Named in the report. @default navigator.userAgent, else "unknown" */
  readonly runtime?: string;
}

/** Defaults of `DoctorOptions`. */
export const DEFAULT_DOCTOR_OPTIONS = Object.freeze({
  topics: Object.freeze(["doctor"]) as readonly string[],
  transports: TRANSPORTS,
  timeoutMs: 5_000,
  watchMs: 15_000,
  busyMs: 500,
});

/** Proofs tried per transport when the hello arrived but the proof failed (see `retryable`). */
export const MAX_TRIES = 3;

const retryable = (r: AttemptRecord) => r.outcome === "buffered" && r.helloMs !== undefined;

const TRANSPORT_VALUES = { sse, websocket, "long-poll": longPoll } as const;

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ThroughlineError("TL_INVALID_OPTION", `doctor: ${name} must be a positive number of ms (got ${String(v)}).`);
  return v;
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ThroughlineError("TL_INVALID_OPTION", `doctor: ${JSON.stringify(String(url).slice(0, 100))} is not a URL (expected http(s)://host/path of the Throughline server).`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ThroughlineError("TL_INVALID_OPTION", `doctor: the URL must be http: or https: (got ${u.protocol}).`);
  return u.href.replace(/\/+$/, "");
}

const browserWebSocket = (): ((log: UpgradeLog) => WebSocketConstructor) | undefined => {
  const WS = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return WS ? () => WS : undefined;
};

/** Probes `options.url` with every transport and returns the report. Never throws for network trouble. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const url = checkUrl(options.url);
  const transports = options.transports ?? DEFAULT_DOCTOR_OPTIONS.transports;
  if (transports.length === 0 || !transports.every((t) => TRANSPORTS.includes(t))) {
    throw new ThroughlineError("TL_INVALID_OPTION", `doctor: transports must be some of ${TRANSPORTS.join(", ")}.`);
  }
  const timeoutMs = positive("timeoutMs", options.timeoutMs ?? DEFAULT_DOCTOR_OPTIONS.timeoutMs);
  const extra = { ...options.headers };
  const token = options.token;
  const progress = options.onProgress ?? (() => {});
  const env: ProbeEnv = {
    url,
    topics: options.topics ?? DEFAULT_DOCTOR_OPTIONS.topics,
    headers: async () => (token ? { ...extra, authorization: `Bearer ${token}` } : { ...extra }),
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    webSocket: options.webSocket ?? browserWebSocket(),
    clock: options.clock ?? SYSTEM_CLOCK,
    timeoutMs,
    watchMs: positive("watchMs", options.watchMs ?? DEFAULT_DOCTOR_OPTIONS.watchMs),
    busyMs: positive("busyMs", options.busyMs ?? DEFAULT_DOCTOR_OPTIONS.busyMs),
  };
  const startedAt = new Date().toISOString();
  progress(`probing ${transports.join(", ")} (proof within ${timeoutMs} ms, then a ${env.watchMs} ms watch)`);
  // Proofs one after another (a busy page or CPU merges reads and would fake "held" streams);
  // the watches then overlap, so a cut can be compared across transports.
  let previous: Promise<void> = Promise.resolve();
  const runs = await Promise.all(
    transports.map(async (name) => {
      const turn = previous;
      let settled!: () => void;
      previous = new Promise<void>((resolve) => (settled = resolve));
      await turn;
      progress(`${name}: proving`);
      const probe = () => probeTransport(TRANSPORT_VALUES[name], { ...env, settled: (r) => void (retryable(r) || settled()) });
      let run = await probe();
      let tries = 1;
      // A hello that came with its probe is a held stream, or a busy machine merging reads: only
      // a hold repeats every time, so the proof is tried again before calling it buffered.
      for (; tries < MAX_TRIES && retryable(run.record); tries++) {
        progress(`${name}: hello and probe merged, trying again (${tries + 1}/${MAX_TRIES})`);
        run = await probe();
      }
      settled();
      progress(`${name}: ${run.record.outcome}${run.closed ? ", ended during the watch" : ""}`);
      return { run, tries };
    }),
  );
  const reports = settleCuts(runs.map(({ run, tries }) => ({ ...diagnose(run, timeoutMs), tries })));
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return { url, startedAt, runtime: options.runtime ?? nav?.userAgent ?? "unknown", transports: reports, verdict: verdictOf(reports) };
}
