/**
 * Opt-in: posts the channel's attempt diagnostics to the server (`POST P/diagnostics`) after
 * each (re)connect, so operators see why users end up on the transport they are on (the
 * server's `rt.stats().negotiation`, and Prometheus). A separate module that only listens to
 * the channel's events: channels that do not report carry none of it.
 */
import { buildUrl } from "@throughline/wire";
import type { Channel } from "./api.js";
import type { AttemptRecord } from "./diagnostics.js";

/** Route of the report under the base path (the server's `DIAGNOSTICS_ROUTE`). */
export const DIAGNOSTICS_PATH = "/diagnostics";

export interface ReportOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Extra headers (as given to `connect`). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** As given to `connect`: sent as `Authorization: Bearer <token>`. @default undefined */
  readonly token?: string | (() => string | Promise<string>);
  /** Wait after a connect before posting, so the race's cancelled attempts are included. @default 1000 */
  readonly delayMs?: number;
}

/** Defaults of `ReportOptions`. */
export const DEFAULT_REPORT_OPTIONS = Object.freeze({ delayMs: 1_000 });

const wire = (a: AttemptRecord) => ({ transport: a.transport, outcome: a.outcome, purpose: a.purpose, reason: a.reason.slice(0, 300), endedMs: Math.round(a.endedMs) });

/**
 * Reports `ch`'s attempts after every open, each attempt once. Best effort: a failed post is
 * dropped (diagnostics must never disturb the channel). Returns a function that stops reporting.
 */
export function reportDiagnostics(ch: Channel, options: ReportOptions = {}): () => void {
  const f = options.fetch ?? globalThis.fetch.bind(globalThis);
  const delayMs = options.delayMs ?? DEFAULT_REPORT_OPTIONS.delayMs;
  /** The newest record posted (records are frozen objects, kept by identity). */
  let last: AttemptRecord | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const post = async (session: string) => {
    const all = ch.diagnostics;
    // The list is bounded and drops its oldest: if `last` fell off, everything left is newer.
    const fresh = all.slice(last ? all.lastIndexOf(last) + 1 : 0);
    last = all[all.length - 1];
    if (fresh.length === 0) return;
    const token = typeof options.token === "function" ? await options.token() : options.token;
    const headers: Record<string, string> = { ...options.headers, "content-type": "text/plain;charset=UTF-8" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await f(buildUrl(ch.url, DIAGNOSTICS_PATH, { session }), {
      method: "POST",
      headers,
      body: JSON.stringify({ transport: ch.transport, attempts: fresh.map(wire) }),
      keepalive: true,
    });
    if (res.body) await res.body.cancel();
  };
  const off = ch.on("open", ({ session }) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      post(session).catch(() => {});
    }, delayMs);
  });
  const offClose = ch.on("close", () => stop());
  const stop = () => {
    off();
    offClose();
    if (timer !== undefined) clearTimeout(timer);
  };
  return stop;
}
