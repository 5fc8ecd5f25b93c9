/**
 * Options of the `EventSource` facade: the standard `EventSourceInit` plus what the standard
 * cannot express (headers, a token, retry bounds) and the Throughline options used against a
 * Throughline server.
 */
import { DEV, ThroughlineError } from "@throughline/wire";
import { SYSTEM_CLOCK, type Clock, type ConnectOptions } from "../options.js";

/** Which protocol the facade speaks. */
export type EventSourceProtocol = "auto" | "throughline" | "sse";

export interface EventSourceInit extends Omit<ConnectOptions, "headers" | "cursor"> {
  /** Send cookies / HTTP auth cross-origin (fetch `credentials: "include"`), as the standard's. @default false */
  withCredentials?: boolean;
  /**
   * `"sse"`: a plain SSE stream, read exactly as WHATWG HTML §9.2 says. `"throughline"`: `url` is
   * a Throughline server's base path; runs on `connect()` (negotiation, all transports, resume).
   * `"auto"`: the first request is a plain SSE request; if the answer carries the Throughline
   * marker header (`x-throughline: 1`), the facade switches to `connect()` (a `…/sse` suffix of
   * the path is dropped and its `topics` query becomes the `topics` option).
   * @default "auto"
   */
  protocol?: EventSourceProtocol;
  /** Extra request headers (e.g. `Authorization`); a function is called before every request. @default {} */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** The last event ID to resume after (sent as `Last-Event-ID`; the cursor on Throughline). @default "" */
  lastEventId?: string;
  /** Plain SSE: reconnection time until the server sends `retry:`. @default 3_000 */
  retryMs?: number;
  /** Plain SSE: a server `retry:` below this is raised to it (no reconnect storm from `retry: 0`). @default 250 */
  minRetryMs?: number;
  /** Plain SSE: a server `retry:` above this is lowered to it. @default 60_000 */
  maxRetryMs?: number;
}

/** Defaults of the facade's own options. */
export const DEFAULT_EVENT_SOURCE_OPTIONS = Object.freeze({
  withCredentials: false,
  protocol: "auto" as EventSourceProtocol,
  lastEventId: "",
  retryMs: 3_000,
  minRetryMs: 250,
  maxRetryMs: 60_000,
  clock: SYSTEM_CLOCK,
});

export interface ResolvedEventSourceInit {
  readonly withCredentials: boolean;
  readonly protocol: EventSourceProtocol;
  readonly headers: () => Promise<Record<string, string>>;
  readonly lastEventId: string;
  readonly retryMs: number;
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  /** Options for `connect()` (Throughline mode), credentials and headers folded in. */
  readonly connect: ConnectOptions;
}

// `what` is `DEV && "…"`: only development builds carry the sentence (see wire's `DEV`).
const bad = (name: string, what: string | false) => new ThroughlineError("TL_INVALID_OPTION", DEV ? `EventSource option ${name} ${what}.` : name);

function ms(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw bad(name, DEV && "must be a finite number ≥ 0");
  return value;
}

/**
 * Resolves and validates the options; conflicting ones are rejected naming both.
 * @throws ThroughlineError TL_INVALID_OPTION
 */
export function resolveEventSourceInit(init: EventSourceInit = {}): ResolvedEventSourceInit {
  const d = DEFAULT_EVENT_SOURCE_OPTIONS;
  const protocol = init.protocol ?? d.protocol;
  if (protocol !== "auto" && protocol !== "throughline" && protocol !== "sse") throw bad("protocol", DEV && `must be "auto", "throughline" or "sse"`);
  const minRetryMs = ms("minRetryMs", init.minRetryMs, d.minRetryMs);
  const maxRetryMs = ms("maxRetryMs", init.maxRetryMs, d.maxRetryMs);
  if (minRetryMs > maxRetryMs) throw bad("minRetryMs", DEV && `(${minRetryMs}) cannot exceed maxRetryMs (${maxRetryMs})`);
  const retryMs = Math.min(maxRetryMs, Math.max(minRetryMs, ms("retryMs", init.retryMs, d.retryMs)));
  const baseFetch = init.fetch ?? globalThis.fetch;
  if (typeof baseFetch !== "function") throw bad("fetch", DEV && "is required where there is no global fetch");
  const withCredentials = init.withCredentials === true;
  // Cross-origin cookies as the standard's `withCredentials` gives them, for every request of either mode.
  const doFetch: typeof fetch = withCredentials ? (input, req) => baseFetch(input, { ...req, credentials: "include" }) : (input, req) => baseFetch(input, req);
  const { headers, token } = init;
  const userHeaders = async (): Promise<Record<string, string>> => ({ ...(typeof headers === "function" ? await headers() : headers) });
  const allHeaders = async (): Promise<Record<string, string>> => {
    const h = await userHeaders();
    if (token !== undefined) h.authorization = `Bearer ${typeof token === "function" ? await token() : token}`;
    return h;
  };
  const lastEventId = init.lastEventId ?? d.lastEventId;
  const { withCredentials: _w, protocol: _p, headers: _h, lastEventId: _l, retryMs: _r, minRetryMs: _mi, maxRetryMs: _ma, ...connectOptions } = init;
  const connect: ConnectOptions = { ...connectOptions, fetch: doFetch, ...(lastEventId ? { cursor: lastEventId } : {}) };
  // connect() takes static headers only; a header function is folded into its fetch instead.
  if (typeof headers === "function") connect.fetch = async (input, req) => doFetch(input, { ...req, headers: { ...(await headers()), ...(req?.headers as Record<string, string>) } });
  else if (headers) connect.headers = headers;
  return { withCredentials, protocol, headers: allHeaders, lastEventId, retryMs, minRetryMs, maxRetryMs, clock: init.clock ?? d.clock, fetch: doFetch, connect };
}
