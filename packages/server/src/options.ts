/**
 * Server options: defaults (frozen constants) and validation. Every out-of-range or conflicting
 * option throws `TL_INVALID_OPTION` naming the option, at `createServer` time, so a typo never
 * turns into a silent misbehaviour in production.
 */
import { ThroughlineError, isEpoch, isTransportName, newEpoch, type TransportName } from "@throughline/wire";
import { REAL_CLOCK, type Clock } from "./clock.js";
import type { Session } from "./session.js";

/** History kept per topic, so reconnecting clients can resume. */
export interface HistoryOptions {
  /** Messages kept per topic (oldest evicted first), at least 1. @default 1_000 */
  size?: number;
  /** Messages older than this are evicted; `Infinity` keeps them until `size` evicts them. @default 300_000 */
  maxAgeMs?: number;
}

export interface ServerOptions {
  /** Base path of every route (`/realtime/sse`, …). @default "/realtime" */
  path?: string;
  /** Enabled transports; a disabled one answers 404 `TL_TRANSPORT_DISABLED`. @default ["sse","websocket","long-poll"] */
  transports?: TransportName[];
  /** Heartbeat interval (SSE comments, WebSocket frames), carrying the server time. @default 15_000 */
  heartbeatMs?: number;
  /** Suggested reconnect delay: SSE `retry:` and `hello.retryMs`. @default 2_000 */
  retryMs?: number;
  /** Size of the SSE opening padding comment, so buffering intermediaries flush. @default 2_048 */
  paddingBytes?: number;
  /** How long an empty long-poll is held before it is answered with a heartbeat. @default 20_000 */
  longPollHoldMs?: number;
  /** Per-topic resume history. @default { size: 1_000, maxAgeMs: 300_000 } */
  history?: HistoryOptions;
  /** A session with no connection (and no held poll) for this long expires. @default 60_000 */
  sessionTtlMs?: number;
  /** Largest client→server body or WebSocket message (413 / WS close 1009 beyond). @default 65_536 */
  maxInboundBytes?: number;
  /** Largest published message (JSON of its data); bigger publishes throw `TL_MESSAGE_TOO_BIG`. @default 4_194_304 */
  maxOutboundBytes?: number;
  /** Per connection: unsent bytes beyond this close it with 4408 TOO_SLOW (it resumes from history). @default 8_388_608 */
  maxBufferedBytes?: number;
  /** Names this run of the history in message ids. @default newEpoch() (random) */
  epoch?: string;
  /** Receives client→server messages (like `server.on("message")`). Errors it throws or rejects with are swallowed. @default undefined */
  onMessage?: (data: unknown, session: Session) => void | Promise<void>;
  /** Time source for protocol timers. @default real timers */
  clock?: Clock;
}

/** Defaults of the history option. */
export const DEFAULT_HISTORY_OPTIONS: Readonly<Required<HistoryOptions>> = Object.freeze({
  size: 1_000,
  maxAgeMs: 300_000,
});

/** Defaults of every option that has a constant default (`epoch` is random per server, `clock` is real time). */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  path: "/realtime",
  transports: Object.freeze(["sse", "websocket", "long-poll"]) as readonly TransportName[],
  heartbeatMs: 15_000,
  retryMs: 2_000,
  paddingBytes: 2_048,
  longPollHoldMs: 20_000,
  history: DEFAULT_HISTORY_OPTIONS,
  sessionTtlMs: 60_000,
  maxInboundBytes: 65_536,
  maxOutboundBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
});

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly path: string;
  readonly transports: ReadonlySet<TransportName>;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly paddingBytes: number;
  readonly longPollHoldMs: number;
  readonly historySize: number;
  readonly historyMaxAgeMs: number;
  readonly sessionTtlMs: number;
  readonly maxInboundBytes: number;
  readonly maxOutboundBytes: number;
  readonly maxBufferedBytes: number;
  readonly epoch: string;
  readonly onMessage: ServerOptions["onMessage"];
  readonly clock: Clock;
}

/** Node's timers overflow (and fire after 1 ms) beyond this. */
const MAX_TIMER_MS = 2_147_483_647;

const invalid = (name: string, why: string) => new ThroughlineError("TL_INVALID_OPTION", `option \`${name}\` ${why}.`);

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(name, `must be an integer from ${min} to ${max} (got ${String(value).slice(0, 40)})`);
  }
  return value;
}

/** URL path characters we accept in `path` (no query, fragment, spaces or dot segments). */
const PATH_RE = /^(\/[A-Za-z0-9_.~!$&'()*+,;=:@%-]+)*\/?$/;

function resolvePath(value: unknown): string {
  if (value === undefined) return DEFAULT_SERVER_OPTIONS.path;
  if (typeof value !== "string" || !value.startsWith("/") || !PATH_RE.test(value) || /\/\.\.?(\/|$)/.test(value)) {
    throw invalid("path", `must be an absolute URL path like "/realtime" (got ${JSON.stringify(String(value).slice(0, 40))})`);
  }
  // Trailing slashes are dropped so routes join as `path + "/sse"`; "/" becomes "" (root).
  return value.replace(/\/+$/, "");
}

function resolveTransports(value: unknown): ReadonlySet<TransportName> {
  if (value === undefined) return new Set(DEFAULT_SERVER_OPTIONS.transports);
  if (!Array.isArray(value) || value.length === 0 || !value.every(isTransportName) || new Set(value).size !== value.length) {
    throw invalid("transports", 'must be a non-empty list of distinct names from "sse", "websocket", "long-poll"');
  }
  return new Set(value);
}

function resolveClock(value: unknown): Clock {
  if (value === undefined) return REAL_CLOCK;
  const c = value as Partial<Clock>;
  if (typeof c !== "object" || c === null || typeof c.now !== "function" || typeof c.setTimeout !== "function" || typeof c.clearTimeout !== "function") {
    throw invalid("clock", "must have now(), setTimeout() and clearTimeout()");
  }
  return c as Clock;
}

/** Applies defaults and validates. @throws ThroughlineError TL_INVALID_OPTION */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw invalid("options", "must be an object");
  const d = DEFAULT_SERVER_OPTIONS;
  const history = options.history ?? {};
  if (typeof history !== "object" || history === null) throw invalid("history", "must be an object");
  let historyMaxAgeMs = history.maxAgeMs ?? DEFAULT_HISTORY_OPTIONS.maxAgeMs;
  if (historyMaxAgeMs !== Infinity) historyMaxAgeMs = int("history.maxAgeMs", historyMaxAgeMs, 0, 1, Number.MAX_SAFE_INTEGER);
  const epoch = options.epoch ?? newEpoch();
  if (typeof epoch !== "string" || !isEpoch(epoch)) throw invalid("epoch", "must be 1–16 of [a-z0-9]");
  if (options.onMessage !== undefined && typeof options.onMessage !== "function") throw invalid("onMessage", "must be a function");

  const resolved: ResolvedOptions = {
    path: resolvePath(options.path),
    transports: resolveTransports(options.transports),
    heartbeatMs: int("heartbeatMs", options.heartbeatMs, d.heartbeatMs, 10, MAX_TIMER_MS),
    retryMs: int("retryMs", options.retryMs, d.retryMs, 0, MAX_TIMER_MS),
    paddingBytes: int("paddingBytes", options.paddingBytes, d.paddingBytes, 0, 1024 * 1024),
    longPollHoldMs: int("longPollHoldMs", options.longPollHoldMs, d.longPollHoldMs, 10, MAX_TIMER_MS),
    historySize: int("history.size", history.size, DEFAULT_HISTORY_OPTIONS.size, 1, 10_000_000),
    historyMaxAgeMs,
    sessionTtlMs: int("sessionTtlMs", options.sessionTtlMs, d.sessionTtlMs, 1, MAX_TIMER_MS),
    maxInboundBytes: int("maxInboundBytes", options.maxInboundBytes, d.maxInboundBytes, 64, 1024 * 1024 * 1024),
    maxOutboundBytes: int("maxOutboundBytes", options.maxOutboundBytes, d.maxOutboundBytes, 64, 1024 * 1024 * 1024),
    maxBufferedBytes: int("maxBufferedBytes", options.maxBufferedBytes, d.maxBufferedBytes, 1024, Number.MAX_SAFE_INTEGER),
    epoch,
    onMessage: options.onMessage,
    clock: resolveClock(options.clock),
  };
  // One allowed message must fit in a connection's buffer, or every subscriber of a big
  // message would be closed as "too slow".
  if (resolved.maxOutboundBytes > resolved.maxBufferedBytes) {
    throw invalid("maxOutboundBytes", `(${resolved.maxOutboundBytes}) must not exceed \`maxBufferedBytes\` (${resolved.maxBufferedBytes})`);
  }
  return resolved;
}
