/**
 * Options of `connect()`: their types, their frozen defaults and their validation. Validation
 * throws at `connect()` time so a typo fails loudly instead of as a reconnect loop.
 */
import { DEV, SYSTEM_CLOCK, ThroughlineError, TRANSPORTS, checkOptionNames, isTopic, type Clock, type TransportName } from "@throughline/wire";
import { defaultMemory, type TransportMemory } from "./memory.js";
import type { Transport } from "./transport.js";

/** Time source and timers, injectable so tests (and apps) can control time: the one `Clock` of `wire`. */
export type { Clock };

/**
 * The part of the WHATWG `WebSocket` the client uses. Browsers' `WebSocket` and the `ws` package
 * both fit. Handlers are `on*` properties because both implement them the same way.
 */
export interface WebSocketLike {
  readonly readyState: number;
  // Parameters are `any` so both the DOM's and ws's event types are assignable.
  onopen: ((ev: any) => unknown) | null;
  onmessage: ((ev: any) => unknown) | null;
  onclose: ((ev: any) => unknown) | null;
  onerror: ((ev: any) => unknown) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A `WebSocket` constructor (`globalThis.WebSocket`, or `ws`'s default export in Node). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ReconnectOptions {
  /** Base of the exponential backoff when the server gave no `retryMs`. @default 250 */
  minDelayMs?: number;
  /** Upper bound of one backoff delay. @default 30_000 */
  maxDelayMs?: number;
}

/**
 * The negotiator's timings. Defaults measured on loopback and through the testkit's hostile
 * proxies (see the README's negotiation section): an SSE proof takes the server's `probeDelayMs`
 * (100) plus a round trip, a WebSocket proof two round trips.
 */
export interface NegotiationOptions {
  /** Start the next transport in parallel when the current attempt is not proven after this long. @default 500 */
  staggerMs?: number;
  /** An attempt not proven within this long fails (`buffered` or `timeout`); capped by `connectTimeoutMs`. @default 4_000 */
  proofTimeoutMs?: number;
  /** Climb back after a fallback: first background re-probe of the preferred transports. `false`: never. @default 30_000 */
  climbMinDelayMs?: number | false;
  /** Upper bound of the climb-back backoff (doubles after each failed climb): after a disturbance ends, the channel is back on the preferred transport within this plus `proofTimeoutMs`. @default 60_000 */
  climbMaxDelayMs?: number;
  /** Watch: a heartbeat later than its connection's baseline by more than this means degraded. `false`: no watch. @default 0 (derived: max(1_000, heartbeatMs / 2)) */
  lateMs?: number | false;
  /** Watch: this many consecutive heartbeat pairs arriving far closer than sent (a burst) mean degraded. @default 2 */
  burstPairs?: number;
  /** Watch: no frame for `quietFactor × heartbeatMs` (+ 1 s) means the stream went quiet: switch down. @default 2.5 */
  quietFactor?: number;
  /** Remember the last proven transport per endpoint for this long (`false`: no memory). @default 86_400_000 (24 h) */
  rememberMs?: number | false;
  /** Where remembered choices live. @default localStorage in browsers, one map per process in Node */
  memory?: TransportMemory;
}

export interface ConnectOptions {
  /** Topics to receive. @default ["*"] (all topics) */
  topics?: string[];
  /**
   * Transports to try, in order; one entry forces that transport. Names (`"sse"`) or transport
   * values (`sse`, `websocket`, `longPoll`); `@throughline/client/core` takes only values, so a
   * bundle ships only the transports it lists. @default ["sse", "websocket", "long-poll"]
   */
  transports?: Array<TransportName | Transport>;
  /** WebSocket constructor. @default globalThis.WebSocket (`@throughline/client/node`: the `ws` package) */
  WebSocket?: WebSocketConstructor;
  /** Fetch implementation for SSE, long-poll and sends. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Whether fetch requests (SSE, long-poll, sends, the ticket exchange) carry cookies and HTTP
   * auth: `"include"` for a server on another origin that authenticates by cookie (its `cors`
   * needs `credentials: true`). Browsers' WebSockets always send the server's cookies.
   * @default "same-origin" (fetch's own default)
   */
  credentials?: "omit" | "same-origin" | "include";
  /** Extra headers on every fetch request (not on WebSocket: browsers cannot set them). @default {} */
  headers?: Record<string, string>;
  /**
   * Sent as `Authorization: Bearer <token>` on fetch requests; a function is called for every
   * request so it can refresh. Never put in URLs or error messages. @default undefined (no header)
   */
  token?: string | (() => string | Promise<string>);
  /** Initial resume cursor: the id of the last message the app already has. @default undefined */
  cursor?: string;
  /** The `hello` must arrive within this many ms on each attempt. @default 10_000 */
  connectTimeoutMs?: number;
  /** Reconnect policy; `false` makes every lost connection final. @default { minDelayMs: 250, maxDelayMs: 30_000 } */
  reconnect?: false | ReconnectOptions;
  /** Time source and timers. @default SYSTEM_CLOCK (Date.now, setTimeout, clearTimeout) */
  clock?: Clock;
  /** Negotiator timings: racing, proof, watch, climb back, memory. @default DEFAULT_NEGOTIATION_OPTIONS */
  negotiation?: NegotiationOptions;
}

/** `fetch`'s credentials modes (checked here: fetch itself would only throw at request time). */
const CREDENTIALS = ["omit", "same-origin", "include"];

/** Defaults of the negotiator (see `NegotiationOptions`). */
export const DEFAULT_NEGOTIATION_OPTIONS = Object.freeze({
  staggerMs: 500,
  proofTimeoutMs: 4_000,
  climbMinDelayMs: 30_000 as number | false,
  climbMaxDelayMs: 60_000,
  lateMs: 0 as number | false,
  burstPairs: 2,
  quietFactor: 2.5,
  rememberMs: 86_400_000 as number | false,
});

/** Negotiation options after defaults and validation. */
export interface ResolvedNegotiation {
  readonly staggerMs: number;
  readonly proofTimeoutMs: number;
  readonly climbMinDelayMs: number | false;
  readonly climbMaxDelayMs: number;
  readonly lateMs: number | false;
  readonly burstPairs: number;
  readonly quietFactor: number;
  readonly rememberMs: number | false;
  /** `undefined` exactly when `rememberMs` is `false`. */
  readonly memory: TransportMemory | undefined;
}

/** The real clock (`wire`'s). */
export { SYSTEM_CLOCK };

/** Defaults of the reconnect policy. */
export const DEFAULT_RECONNECT_OPTIONS: Readonly<Required<ReconnectOptions>> = Object.freeze({
  minDelayMs: 250,
  maxDelayMs: 30_000,
});

/** Defaults of `connect()`'s options (those that have a value). */
export const DEFAULT_CONNECT_OPTIONS = Object.freeze({
  topics: Object.freeze(["*"]) as readonly string[],
  transports: TRANSPORTS,
  headers: Object.freeze({}) as Readonly<Record<string, string>>,
  connectTimeoutMs: 10_000,
  reconnect: DEFAULT_RECONNECT_OPTIONS,
  clock: SYSTEM_CLOCK,
});

/** Compile-time only: whether unions `A` and `B` are equal. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Every option name, so a misspelled one is refused at `connect()` (issue #11). Derived from the
// frozen defaults (no second list of strings in the browser bundle); the `satisfies` lines make
// the compiler check them against the interfaces, so an option cannot be added and forgotten.
const OPTION_NAMES = [...Object.keys(DEFAULT_CONNECT_OPTIONS), ..."WebSocket fetch credentials token cursor negotiation".split(" ")];
true satisfies Same<keyof ConnectOptions, keyof typeof DEFAULT_CONNECT_OPTIONS | "WebSocket" | "fetch" | "credentials" | "token" | "cursor" | "negotiation">;
const RECONNECT_OPTION_NAMES = Object.keys(DEFAULT_RECONNECT_OPTIONS);
true satisfies Same<keyof ReconnectOptions, keyof typeof DEFAULT_RECONNECT_OPTIONS>;
const NEGOTIATION_OPTION_NAMES = [...Object.keys(DEFAULT_NEGOTIATION_OPTIONS), "memory"];
true satisfies Same<keyof NegotiationOptions, keyof typeof DEFAULT_NEGOTIATION_OPTIONS | "memory">;

/** `connect()`'s options in `@throughline/client/core`: `transports` is required, as values. */
export type CoreConnectOptions = Omit<ConnectOptions, "transports"> & { transports: Transport[] };

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly url: string;
  readonly topics: readonly string[];
  /** The order of the negotiator (names). */
  readonly transports: readonly TransportName[];
  /** The transport value of each name listed, and of every name `known` (a forced switch may use one not listed). */
  readonly links: Readonly<Partial<Record<TransportName, Transport>>>;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly fetch: typeof fetch;
  readonly headers: Readonly<Record<string, string>>;
  readonly token: ConnectOptions["token"];
  readonly cursor: string | null;
  readonly connectTimeoutMs: number;
  readonly reconnect: Readonly<Required<ReconnectOptions>> | false;
  readonly clock: Clock;
  readonly negotiation: ResolvedNegotiation;
}

function resolveNegotiation(n: NegotiationOptions | undefined): ResolvedNegotiation {
  need(n === undefined || (typeof n === "object" && n !== null), DEV ? "negotiation must be an object." : "negotiation");
  if (n) checkOptionNames(n, NEGOTIATION_OPTION_NAMES, "negotiation.");
  const r = { ...DEFAULT_NEGOTIATION_OPTIONS, ...n };
  const min = r.climbMinDelayMs;
  const m = r.memory;
  // Which values are in range, in the order they are reported (first bad one wins).
  const ok: Record<keyof NegotiationOptions, boolean> = {
    staggerMs: isMs(r.staggerMs),
    proofTimeoutMs: isMs(r.proofTimeoutMs) && r.proofTimeoutMs > 0,
    climbMinDelayMs: min === false || (isMs(min) && min > 0),
    // (`false` compares as 0; a bad climbMinDelayMs was reported above.)
    climbMaxDelayMs: isMs(r.climbMaxDelayMs) && r.climbMaxDelayMs >= (min as number),
    lateMs: r.lateMs === false || isMs(r.lateMs),
    burstPairs: Number.isInteger(r.burstPairs) && r.burstPairs >= 1,
    quietFactor: typeof r.quietFactor === "number" && r.quietFactor >= 1 && r.quietFactor <= 100,
    rememberMs: r.rememberMs === false || isMs(r.rememberMs),
    memory: m === undefined || (typeof m === "object" && m !== null && typeof m.get === "function" && typeof m.set === "function"),
  };
  for (const k in ok) {
    need(ok[k as keyof typeof ok], DEV ? (k === "memory" ? "negotiation.memory must have get(), set() and delete()." : `negotiation.${k} is out of range (got ${String(r[k as keyof typeof ok]).slice(0, 40)}).`) : `negotiation.${k}`);
  }
  // `r` holds only known names (checked above): the defaults, overridden.
  return { ...r, memory: r.rememberMs === false ? undefined : (m ?? defaultMemory()) } as ResolvedNegotiation;
}

/**
 * Throws TL_INVALID_OPTION unless `ok`. `what`: a sentence in development builds, the option's
 * name in production (see wire's `DEV`).
 */
function need(ok: unknown, what: string): asserts ok {
  if (!ok) throw new ThroughlineError("TL_INVALID_OPTION", what);
}
const isMs = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 2_147_483_647;

/**
 * The endpoint as an absolute http(s) URL: a relative one (`"/realtime"`) resolves against the
 * page's `location` in browsers (issue #11), as `fetch` and `EventSource` do.
 */
function resolveUrl(url: string): string {
  const page = (globalThis as { location?: { href?: unknown } }).location;
  const base = page && typeof page.href === "string" ? page.href : undefined;
  let parsed: URL | undefined;
  try {
    // An undefined base is no base (WebIDL: an omitted optional argument).
    parsed = new URL(url, base);
  } catch {
    // reported below
  }
  need(parsed && /^https?:$/.test(parsed.protocol), DEV ? `url must be an http(s) URL, e.g. "https://example.com/realtime" (relative only in a page).` : "url");
  return base ? parsed.href : url;
}

/**
 * The listed transports: each a name found in `known` or a transport value, distinct, at least
 * one. Returns the names in order and the value of each.
 */
function resolveTransports(list: unknown, known: Partial<Record<string, Transport>>): [TransportName[], Partial<Record<TransportName, Transport>>] {
  const links: Partial<Record<TransportName, Transport>> = { ...known };
  const names: TransportName[] = [];
  for (const t of Array.isArray(list) ? list : []) {
    const v: Transport | undefined = typeof t === "string" ? known[t] : t;
    if (!v || typeof v !== "object" || !TRANSPORTS.includes(v.name) || typeof v.create !== "function" || typeof v.proof !== "object" || names.includes(v.name)) {
      names.length = 0;
      break;
    }
    links[v.name] = v;
    names.push(v.name);
  }
  need(names.length, DEV ? `transports must be a non-empty list of distinct ${TRANSPORTS.join(", ")} (@throughline/client/core: of the values sse, websocket, longPoll).` : "transports");
  return [names, links];
}

/**
 * Applies defaults and checks every option. `known`: the transports a name may stand for (the
 * default entry: all three; `@throughline/client/core`: none, values only).
 * @throws ThroughlineError TL_INVALID_OPTION, TL_BAD_TOPIC
 */
export function resolveOptions(url: string, o: ConnectOptions = {}, known: Partial<Record<string, Transport>> = {}): ResolvedOptions {
  o = Object(o) as ConnectOptions; // null and primitives: no own names, or refused ones
  checkOptionNames(o, OPTION_NAMES);
  const href = resolveUrl(url);
  const topics = o.topics ?? DEFAULT_CONNECT_OPTIONS.topics;
  need(Array.isArray(topics) && topics.length, DEV ? "topics must be a non-empty array (omit it for all)." : "topics");
  for (const t of topics) {
    if (t !== "*" && !(typeof t === "string" && isTopic(t))) {
      // The name quoted in each arm, not held in a variable: a production bundle then keeps one expression.
      throw new ThroughlineError("TL_BAD_TOPIC", DEV ? `invalid topic name ${JSON.stringify(String(t).slice(0, 40))}: use 1–128 of [A-Za-z0-9_.:/-].` : JSON.stringify(String(t).slice(0, 40)));
    }
  }
  const WS = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  need(WS === undefined || typeof WS === "function", DEV ? "WebSocket must be a constructor." : "WebSocket");
  const [transports, links] = resolveTransports(o.transports ?? DEFAULT_CONNECT_OPTIONS.transports, known);
  // Nothing listed can run here (Node 20 has no global WebSocket): a configuration error, not a
  // reason to retry forever (issue #11). In a longer list the WebSocket attempt fails at once
  // (TL_NO_WEBSOCKET) and the next transport is tried.
  const wsOnly = transports.every((t) => t === "websocket");
  need(WS || !wsOnly, DEV ? `no WebSocket here for transports: ["websocket"]: pass the WebSocket option or use @throughline/client/node.` : "WebSocket");
  const credentials = o.credentials;
  need(credentials === undefined || CREDENTIALS.includes(credentials), DEV ? `credentials must be one of ${CREDENTIALS.join(", ")}.` : "credentials");
  const f = o.fetch ?? (globalThis.fetch as typeof fetch | undefined);
  const hasFetch = typeof f === "function";
  need(hasFetch || (wsOnly && o.token === undefined), DEV ? (wsOnly ? "token needs fetch (to trade it for a WebSocket ticket)." : "no fetch in this runtime: pass the fetch option.") : "fetch");
  const connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_OPTIONS.connectTimeoutMs;
  need(isMs(connectTimeoutMs) && connectTimeoutMs, DEV ? "connectTimeoutMs must be a positive number of ms." : "connectTimeoutMs");
  let reconnect: ResolvedOptions["reconnect"] = false;
  if (o.reconnect !== false) {
    const r = { ...DEFAULT_RECONNECT_OPTIONS, ...o.reconnect };
    checkOptionNames(Object(o.reconnect), RECONNECT_OPTION_NAMES, "reconnect.");
    need(isMs(r.minDelayMs) && isMs(r.maxDelayMs) && r.maxDelayMs >= r.minDelayMs, DEV ? "reconnect needs 0 ≤ minDelayMs ≤ maxDelayMs (ms)." : "reconnect");
    reconnect = Object.freeze(r);
  }
  const token = typeof o.token;
  need(token === "undefined" || token === "string" || token === "function", DEV ? "token must be a string or a function returning one." : "token");
  need(o.cursor === undefined || typeof o.cursor === "string", DEV ? "cursor must be a string (a message id)." : "cursor");
  return {
    url: href,
    topics: topics.includes("*") ? ["*"] : [...new Set(topics)],
    transports,
    links,
    WebSocket: WS,
    // Called as a plain function: a browser's fetch throws "Illegal invocation" on a foreign `this`.
    // `credentials` goes on every request here, so no transport can forget it.
    fetch: ((input, init) => (f as typeof fetch)(input, credentials ? { credentials, ...init } : init)) as typeof fetch,
    headers: { ...o.headers },
    token: o.token,
    cursor: o.cursor ?? null,
    connectTimeoutMs,
    reconnect,
    clock: o.clock ?? SYSTEM_CLOCK,
    negotiation: resolveNegotiation(o.negotiation),
  };
}
