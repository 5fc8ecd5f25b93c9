/**
 * Instruments the runtime's `fetch` and `WebSocket` so the client's own transports can run
 * unchanged while the doctor sees what they saw: statuses, headers, and when each network
 * delivery of a body arrived and how big it was.
 */
import type { WebSocketConstructor, WebSocketLike } from "@throughline/client";
import type { HttpExchange, UpgradeResult } from "./report.js";

/** Headers worth reporting (lower case). Anything else says nothing about the path. */
export const HEADERS_THAT_MATTER: readonly string[] = Object.freeze([
  "x-throughline",
  "server",
  "via",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "content-length",
  "x-accel-buffering",
  "cache-control",
  "x-powered-by",
  "cf-ray",
  "x-cache",
  "x-served-by",
]);

/** The headers that matter, from a fetch `Headers` or Node's `IncomingHttpHeaders`. */
export function pickHeaders(get: (name: string) => string | string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of HEADERS_THAT_MATTER) {
    const v = get(name);
    if (v !== null && v !== undefined) out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** The route of a Throughline URL relative to `base` (`/sse`, `/poll`, …). */
function routeOf(base: string, url: string): string {
  const path = new URL(url).pathname;
  const root = new URL(base).pathname.replace(/\/+$/, "");
  return path.startsWith(root) ? path.slice(root.length) || "/" : path;
}

/**
 * A `fetch` that records every exchange into `log`. The body is passed through a stream that
 * timestamps each read, so "two frames in one delivery" stays visible to the proof rules.
 */
export function observingFetch(base: typeof fetch, url: string, now: () => number, log: HttpExchange[]): typeof fetch {
  const t0 = now();
  return async (input, init) => {
    const target = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const ex: HttpExchange = { route: routeOf(url, target), method: init?.method ?? "GET", headers: {}, chunks: [] };
    log.push(ex);
    let res: Response;
    try {
      res = await base(input, init);
    } catch (cause) {
      ex.error = cause instanceof Error ? (cause.cause instanceof Error ? `${cause.message}: ${cause.cause.message}` : cause.message) : String(cause);
      throw cause;
    }
    ex.status = res.status;
    ex.headersMs = now() - t0;
    ex.headers = pickHeaders((n) => res.headers.get(n));
    if (!res.body) return res;
    const timing = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        ex.chunks.push({ atMs: now() - t0, bytes: chunk.byteLength });
        controller.enqueue(chunk);
      },
    });
    // A new Response keeps status and headers; the transports read nothing else.
    return new Response(res.body.pipeThrough(timing), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** What a WebSocket constructor wrapper reports about the upgrade. */
export interface UpgradeLog {
  upgrade?: UpgradeResult;
  /** ms from the probe's start to `open`. */
  openMs?: number;
}

/**
 * Wraps a browser-style `WebSocket` constructor to time its `open`. Browsers do not say why an
 * upgrade failed, so a failure before `open` is only `failed`.
 */
export function observingWebSocket(WS: WebSocketConstructor, now: () => number, log: UpgradeLog): WebSocketConstructor {
  const t0 = now();
  return class {
    constructor(url: string) {
      const ws = new WS(url);
      const wrap = (name: "onopen" | "onclose", before: (ev: any) => void) => {
        let user: ((ev: any) => unknown) | null = null;
        ws[name] = (ev: any) => {
          before(ev);
          return user?.(ev);
        };
        return { get: () => user, set: (fn: ((ev: any) => unknown) | null) => void (user = fn) };
      };
      const open = wrap("onopen", () => {
        log.openMs = now() - t0;
        log.upgrade ??= { result: "accepted", status: 101 };
      });
      const close = wrap("onclose", () => {
        log.upgrade ??= { result: "failed" };
      });
      return new Proxy(ws, {
        get: (target, key) => (key === "onopen" ? open.get() : key === "onclose" ? close.get() : bind(target, key)),
        set: (target, key, value) => {
          if (key === "onopen") open.set(value);
          else if (key === "onclose") close.set(value);
          else (target as any)[key] = value;
          return true;
        },
      });
    }
  } as unknown as WebSocketConstructor;
}

function bind(target: WebSocketLike, key: string | symbol): unknown {
  const v = (target as any)[key];
  return typeof v === "function" ? v.bind(target) : v;
}
