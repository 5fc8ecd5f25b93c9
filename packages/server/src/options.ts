/**
 * Server options: defaults (frozen constants) and validation. Every out-of-range or conflicting
 * option throws `TL_INVALID_OPTION` naming the option, at `createServer` time, so a typo never
 * turns into a silent misbehaviour in production.
 */
import type { DoctorPageSource } from "./diagnostics.js";
import { ThroughlineError, checkOptionNames, isEpoch, optionNames, isTransportName, newEpoch, type TransportName } from "@throughline/wire";
import { REAL_CLOCK, type Clock } from "./clock.js";
import { DEFAULT_MEMORY_HISTORY_STORE_OPTIONS, MemoryHistoryStore, type HistoryStore } from "./history-store.js";
import type { Session } from "./session.js";
import type { Backplane } from "./backplane.js";
import { ReplicaStore } from "./replica.js";
import { resolveSecurityOptions, type ResolvedSecurity, type SecurityOptions } from "./security-options.js";
import type { CorsOptions } from "./cors.js";
import { MAX_TIMER_MS, int, invalid } from "./validate.js";

/** History kept per topic, so reconnecting clients can resume. */
export interface HistoryOptions {
  /** Messages kept per topic (oldest evicted first), at least 1. @default 1_000 */
  size?: number;
  /** Messages older than this are evicted; `Infinity` keeps them until `size` evicts them. @default 300_000 */
  maxAgeMs?: number;
  /**
   * Topic records kept (each remembers its eviction mark even when empty); past it the least
   * recently published topic is forgotten, and resumes from before its last message get a gap.
   * @default 10_000
   */
  maxTopics?: number;
}

/** Every option of `createServer`; the security ones (auth, CORS, limits, logger) are in `SecurityOptions`. */
export interface ServerOptions extends SecurityOptions {
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
  /**
   * Delay of the SSE proof probe after the opening write: the client counts SSE as working only
   * once this second, separate delivery arrives (a buffering intermediary would merge or hold it).
   * Long enough that the opening write has left the socket on its own, short enough not to slow
   * connecting. `0` disables the probe (clients then never prove SSE). @default 100
   */
  probeDelayMs?: number;
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
  /**
   * Per connection: unsent messages beyond this close it with 4408 TOO_SLOW, like
   * `maxBufferedBytes` (many tiny messages cost memory beyond their bytes). @default 4_096
   */
  maxBufferedMessages?: number;
  /**
   * WebSocket: a connection with no frame and no pong from the client for this long is
   * terminated (the server pings on every heartbeat; browsers answer pings without running
   * script, so throttled background tabs stay alive). @default 2 × heartbeatMs + 5_000
   */
  clientTimeoutMs?: number;
  /**
   * Where the resume history lives. Hubs given the same store share its epoch and sequence, so
   * clients resume across instances; `history` and `epoch` then come from the store.
   * @default a new MemoryHistoryStore built from `history` and `epoch`
   */
  historyStore?: HistoryStore;
  /** Names this run of the history in message ids. @default newEpoch() (random) */
  epoch?: string;
  /**
   * Several processes as one (issue #12): the shared history, sessions and tickets, e.g.
   * `redisBackplane()` from `@throughline/redis`. Publish with `publishAsync` (resolves once the
   * message is in the shared history); every node delivers every node's messages. The server
   * does not close it. Conflicts with `historyStore` and `epoch` (the backplane owns both).
   * @default undefined (one process: the memory history)
   */
  backplane?: Backplane;
  /**
   * Receives client→server messages (like `server.on("message")`) with their session and its
   * authenticated user (`authenticate`'s result; `undefined` without it). Errors it throws or
   * rejects with are swallowed. @default undefined
   */
  onMessage?: (data: unknown, session: Session, user: unknown) => void | Promise<void>;
  /** Time source for protocol timers. @default real timers */
  clock?: Clock;
  /**
   * Serves the doctor page at `P/doctor` (opt-in): pass `doctorPage()` of `@throughline/doctor/page`.
   * @default undefined (no page)
   */
  doctorPage?: DoctorPageSource;
  /**
   * node:http (HTTP/1.1): free the connection's HTTP parser while an SSE stream holds it, and give
   * it a fresh one when the stream ends (about 2.5 KB less per open stream; see
   * `adapters/node-parser.ts`). It uses node:http internals and does nothing where they differ;
   * `false` keeps node's parser untouched, as a plain streaming response would. @default true
   */
  releaseHttpParser?: boolean;
}

/** Defaults of the history option (the default `MemoryHistoryStore`'s, one object). */
export const DEFAULT_HISTORY_OPTIONS: Readonly<Required<HistoryOptions>> = DEFAULT_MEMORY_HISTORY_STORE_OPTIONS;

/** Defaults of every option that has a constant default (`epoch` is random per server, `clock` is real time). */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  path: "/realtime",
  transports: Object.freeze(["sse", "websocket", "long-poll"]) as readonly TransportName[],
  heartbeatMs: 15_000,
  retryMs: 2_000,
  paddingBytes: 2_048,
  longPollHoldMs: 20_000,
  probeDelayMs: 100,
  history: DEFAULT_HISTORY_OPTIONS,
  sessionTtlMs: 60_000,
  maxInboundBytes: 65_536,
  maxOutboundBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxBufferedMessages: 4_096,
});

/** `clientTimeoutMs` defaults to this many heartbeat intervals plus `CLIENT_TIMEOUT_SLACK_MS`. */
export const CLIENT_TIMEOUT_HEARTBEATS = 2;
/** Slack of the default `clientTimeoutMs`, for a loaded server's late ticks. */
export const CLIENT_TIMEOUT_SLACK_MS = 5_000;

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly path: string;
  readonly transports: ReadonlySet<TransportName>;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly paddingBytes: number;
  readonly longPollHoldMs: number;
  readonly probeDelayMs: number;
  readonly sessionTtlMs: number;
  readonly maxInboundBytes: number;
  readonly maxOutboundBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedMessages: number;
  readonly clientTimeoutMs: number;
  readonly historyStore: HistoryStore;
  readonly epoch: string;
  readonly backplane: Backplane | undefined;
  readonly onMessage: ServerOptions["onMessage"];
  /** Authentication, CORS, limits and logging (`security-options.ts`). */
  readonly security: ResolvedSecurity;
  readonly clock: Clock;
  readonly releaseHttpParser: boolean;
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

/**
 * Every option name, so a misspelled one is refused (issue #11). Checked by the compiler against
 * the options' interfaces: an option added there and not here fails to compile.
 */
const OPTION_NAMES = optionNames<ServerOptions>()(
  "path transports heartbeatMs retryMs paddingBytes longPollHoldMs probeDelayMs history sessionTtlMs maxInboundBytes maxOutboundBytes maxBufferedBytes maxBufferedMessages clientTimeoutMs historyStore epoch onMessage clock authenticate authorize cors trustProxy logger ticketTtlMs maxTickets maxConnections maxConnectionsPerAddress maxConnectionsPerUser maxTopicsPerConnection maxPollsPerSecond maxHeaderBytes headersTimeoutMs requestTimeoutMs doctorPage backplane releaseHttpParser",
);
const HISTORY_OPTION_NAMES = optionNames<HistoryOptions>()("size maxAgeMs maxTopics");
const CORS_OPTION_NAMES = optionNames<CorsOptions>()("origins credentials maxAgeSeconds");

/** Applies defaults and validates. @throws ThroughlineError TL_INVALID_OPTION */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw invalid("options", "must be an object");
  checkOptionNames(options, OPTION_NAMES);
  const d = DEFAULT_SERVER_OPTIONS;
  const history = options.history ?? {};
  if (typeof history !== "object" || history === null) throw invalid("history", "must be an object");
  checkOptionNames(history, HISTORY_OPTION_NAMES, "history.");
  const cors: unknown = options.cors;
  if (typeof cors === "object" && cors !== null) checkOptionNames(cors, CORS_OPTION_NAMES, "cors.");
  let historyMaxAgeMs = history.maxAgeMs ?? DEFAULT_HISTORY_OPTIONS.maxAgeMs;
  if (historyMaxAgeMs !== Infinity) historyMaxAgeMs = int("history.maxAgeMs", historyMaxAgeMs, 0, 1, Number.MAX_SAFE_INTEGER);
  const backplane = options.backplane;
  if (backplane !== undefined) {
    if (typeof backplane !== "object" || backplane === null || typeof backplane.append !== "function" || typeof backplane.subscribe !== "function" || typeof backplane.since !== "function") {
      throw invalid("backplane", "must implement Backplane (append, since, head, subscribe, sessions, tickets, counters)");
    }
    if (options.historyStore !== undefined) throw invalid("backplane", "conflicts with `historyStore` (the backplane holds the history)");
    if (options.epoch !== undefined) throw invalid("backplane", "conflicts with `epoch` (the backplane names its epochs)");
  }
  const store = options.historyStore;
  if (store !== undefined && (typeof store !== "object" || store === null || typeof store.add !== "function" || typeof store.since !== "function" || typeof store.prune !== "function")) {
    throw invalid("historyStore", "must implement HistoryStore (epoch, seq, add, since, prune)");
  }
  if (store && options.epoch !== undefined && options.epoch !== store.epoch) throw invalid("epoch", "must equal `historyStore.epoch` (or be left out)");
  const epoch = store?.epoch ?? options.epoch ?? newEpoch();
  if (typeof epoch !== "string" || !isEpoch(epoch)) throw invalid("epoch", "must be 1–16 of [a-z0-9]");
  if (options.onMessage !== undefined && typeof options.onMessage !== "function") throw invalid("onMessage", "must be a function");
  const historySize = int("history.size", history.size, DEFAULT_HISTORY_OPTIONS.size, 1, 10_000_000);
  const historyMaxTopics = int("history.maxTopics", history.maxTopics, DEFAULT_HISTORY_OPTIONS.maxTopics, 1, 100_000_000);
  const heartbeatMs = int("heartbeatMs", options.heartbeatMs, d.heartbeatMs, 10, MAX_TIMER_MS);
  const clientTimeoutMs = int("clientTimeoutMs", options.clientTimeoutMs, Math.min(MAX_TIMER_MS, CLIENT_TIMEOUT_HEARTBEATS * heartbeatMs + CLIENT_TIMEOUT_SLACK_MS), 1, MAX_TIMER_MS);
  // Below one heartbeat interval a healthy client (which answers the ping of each tick) would be cut.
  if (clientTimeoutMs <= heartbeatMs) throw invalid("clientTimeoutMs", `(${clientTimeoutMs}) must exceed \`heartbeatMs\` (${heartbeatMs})`);
  const clock = resolveClock(options.clock);
  if (options.releaseHttpParser !== undefined && typeof options.releaseHttpParser !== "boolean") throw invalid("releaseHttpParser", "must be a boolean");

  const resolved: ResolvedOptions = {
    path: resolvePath(options.path),
    transports: resolveTransports(options.transports),
    heartbeatMs,
    retryMs: int("retryMs", options.retryMs, d.retryMs, 0, MAX_TIMER_MS),
    paddingBytes: int("paddingBytes", options.paddingBytes, d.paddingBytes, 0, 1024 * 1024),
    longPollHoldMs: int("longPollHoldMs", options.longPollHoldMs, d.longPollHoldMs, 10, MAX_TIMER_MS),
    probeDelayMs: int("probeDelayMs", options.probeDelayMs, d.probeDelayMs, 0, 60_000),
    sessionTtlMs: int("sessionTtlMs", options.sessionTtlMs, d.sessionTtlMs, 1, MAX_TIMER_MS),
    maxInboundBytes: int("maxInboundBytes", options.maxInboundBytes, d.maxInboundBytes, 64, 1024 * 1024 * 1024),
    maxOutboundBytes: int("maxOutboundBytes", options.maxOutboundBytes, d.maxOutboundBytes, 64, 1024 * 1024 * 1024),
    maxBufferedBytes: int("maxBufferedBytes", options.maxBufferedBytes, d.maxBufferedBytes, 1024, Number.MAX_SAFE_INTEGER),
    maxBufferedMessages: int("maxBufferedMessages", options.maxBufferedMessages, d.maxBufferedMessages, 1, Number.MAX_SAFE_INTEGER),
    clientTimeoutMs,
    historyStore: backplane
      ? // The epoch is the backplane's once the ingest is positioned (cross-node.ts resets it).
        new ReplicaStore(epoch, { size: historySize, maxAgeMs: historyMaxAgeMs, maxTopics: historyMaxTopics }, () => clock.now())
      : (store ?? new MemoryHistoryStore({ size: historySize, maxAgeMs: historyMaxAgeMs, maxTopics: historyMaxTopics, epoch, now: () => clock.now() })),
    epoch,
    backplane,
    onMessage: options.onMessage,
    security: resolveSecurityOptions(options),
    clock,
    releaseHttpParser: options.releaseHttpParser ?? true,
  };
  // One allowed message must fit in a connection's buffer, or every subscriber of a big
  // message would be closed as "too slow".
  if (resolved.maxOutboundBytes > resolved.maxBufferedBytes) {
    throw invalid("maxOutboundBytes", `(${resolved.maxOutboundBytes}) must not exceed \`maxBufferedBytes\` (${resolved.maxBufferedBytes})`);
  }
  return resolved;
}
