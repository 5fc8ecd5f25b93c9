/**
 * The node:http2 adapter: SSE and long-poll over HTTP/2 (TLS), so every tab of an origin shares
 * one connection instead of HTTP/1.1's six per origin. node:http2's compatibility API gives
 * request/response objects shaped like node:http's, so the same `NodeExchange` serves them
 * (minus the connection-specific headers HTTP/2 forbids). With `allowHTTP1` (default) HTTP/1.1
 * clients, WebSocket upgrades included, are served on the same port.
 *
 * Stream limits: `maxConcurrentStreams` (SETTINGS_MAX_CONCURRENT_STREAMS) bounds the open SSE
 * streams and polls per connection; the server's own `maxConnections*` limits still apply per
 * stream. Flow control: a stream whose reader stops gets its HTTP/2 window filled, after which
 * writes queue in the stream (`writableLength`) and the usual `maxBufferedBytes` /
 * `maxBufferedMessages` limits close it with 4408 TOO_SLOW; other streams of the connection keep
 * flowing (per-stream windows), and heartbeats keep the streams of idle tabs alive.
 */
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session, type SecureServerOptions } from "node:http2";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { safetyTimer } from "../clock.js";
import { coreOf, type ThroughlineServer } from "../server.js";
import { CLOSE_GRACE_MS, listenOn } from "./node-http.js";

/** Options of `listenHttp2`. */
export interface Http2ListenOptions {
  /** TLS private key (PEM). Browsers speak HTTP/2 only over TLS. */
  key: string | Buffer;
  /** TLS certificate chain (PEM). */
  cert: string | Buffer;
  /** Port; `0` picks a free one. @default 0 */
  port?: number;
  /** Interface. @default undefined (all) */
  host?: string;
  /** Serve HTTP/1.1 clients (and WebSocket upgrades) on the same port. @default true */
  allowHTTP1?: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: open streams (SSE, polls, sends) per connection. @default 256 */
  maxConcurrentStreams?: number;
  /** More `createSecureServer` options (ALPN, ciphers, …). @default {} */
  tls?: SecureServerOptions;
  /** Answers requests outside the Throughline path (static files, the app). @default 404 */
  fallback?: (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | import("node:http").ServerResponse) => void;
}

/** Defaults of `listenHttp2`. */
export const DEFAULT_HTTP2_OPTIONS = Object.freeze({ port: 0, allowHTTP1: true, maxConcurrentStreams: 256 });

/** What `listenHttp2` resolves with. */
export interface Http2ListenResult {
  readonly server: Http2SecureServer;
  readonly port: number;
  /** `https://host:port` + `path`. */
  readonly url: string;
}

/**
 * Serves `rt` on an existing node:http2 secure server: its requests under the path (HTTP/2 and,
 * with `allowHTTP1`, HTTP/1.1) and its WebSocket upgrades; the rest goes to `fallback` (404).
 */
export function attachHttp2(rt: ThroughlineServer, server: Http2SecureServer, fallback?: Http2ListenOptions["fallback"]): void {
  server.on("request", (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (rt.handle(req, res)) return;
    if (fallback) fallback(req, res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
  });
}

/** Creates a TLS HTTP/2 server for `rt`, listens, and closes it with `rt.close()`. */
export async function listenHttp2(rt: ThroughlineServer, options: Http2ListenOptions): Promise<Http2ListenResult> {
  const core = coreOf(rt);
  const server = createSecureServer({
    ...options.tls,
    key: options.key,
    cert: options.cert,
    allowHTTP1: options.allowHTTP1 ?? DEFAULT_HTTP2_OPTIONS.allowHTTP1,
    maxSessionMemory: 64,
    settings: { ...options.tls?.settings, maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_HTTP2_OPTIONS.maxConcurrentStreams },
  });
  // Streams stay open for as long as the client reads them (heartbeats keep them busy).
  server.setTimeout(0);
  const sessions = new Set<Http2Session>();
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", () => {}); // reported by 'close'; without a listener it would crash the process
  });
  attachHttp2(rt, server, options.fallback);
  const listening = await listenOn(server, options.port ?? DEFAULT_HTTP2_OPTIONS.port, options.host);
  core.addCloser(async () => {
    // Streams were ended by rt.close(); GOAWAY lets sessions finish, then they go by force.
    for (const s of sessions) s.close();
    const timer = safetyTimer(() => {
      for (const s of sessions) s.destroy();
    }, CLOSE_GRACE_MS);
    await listening.close();
    clearTimeout(timer);
  });
  const host = options.host;
  const h = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return { server, port: listening.port, url: `https://${h}:${listening.port}${rt.path}` };
}
