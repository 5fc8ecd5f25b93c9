/**
 * HTTP plumbing shared by the routes: the headers on every response, JSON error answers, raw
 * answers on an upgrade socket, URL splitting and bounded body reading.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { MARKER_HEADER, MARKER_VALUE, ThroughlineError, httpError, statusOf } from "@throughline/wire";

/** 503 for requests that arrive while the server shuts down: clients reconnect elsewhere and resume. */
export const closingError = () => httpError("TL_SERVER_CLOSING", "the server is shutting down; reconnect (to another instance) and resume.");
import { safetyTimer } from "./clock.js";

/**
 * Headers on every response the server writes, errors included:
 * - `nosniff`: a JSON error or an event stream is never run as a script or rendered as HTML.
 * - `Cross-Origin-Resource-Policy: same-origin`: other sites cannot pull our answers into their
 *   process as no-cors subresources (`<script src>`, `<img>`: Spectre-style leaks). CORS requests,
 *   which is how allowed origins call us, are not affected by it.
 * - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`: an answer opened as a
 *   page (a link to an error URL) can load nothing, run nothing and not be framed.
 */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  [MARKER_HEADER]: MARKER_VALUE,
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
});

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...BASE_HEADERS,
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
});

/** A request URL split into pathname (not decoded: routes match exactly) and query. */
export interface RequestTarget {
  readonly pathname: string;
  readonly query: URLSearchParams;
}

export function splitUrl(url: string): RequestTarget {
  const q = url.indexOf("?");
  const h = url.indexOf("#");
  const end = h === -1 ? url.length : h;
  if (q === -1 || q > end) return { pathname: url.slice(0, end), query: new URLSearchParams() };
  return { pathname: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1, end)) };
}

/** Converts anything thrown into the error the server answers with (unknown → TL_INTERNAL). */
export function toHttpError(err: unknown): ThroughlineError {
  if (err instanceof ThroughlineError && err.status !== undefined) return err;
  if (err instanceof ThroughlineError && err.code.startsWith("TL_") && statusOf(err.code) !== 500) {
    return new ThroughlineError(err.code, err.message.replace(/^Throughline: /, ""), { status: statusOf(err.code), cause: err });
  }
  return new ThroughlineError("TL_INTERNAL", "unexpected server error.", { status: 500, cause: err });
}

/** Answers with the JSON error body; destroys the response if headers already went out. */
export function sendError(res: ServerResponse, err: unknown, extra: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const e = toHttpError(err);
  const body = JSON.stringify(e.toJSON());
  res.writeHead(e.status ?? statusOf(e.code), { ...JSON_HEADERS, "content-length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

/** Answers 200 with a JSON text. */
export function sendJson(res: ServerResponse, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { ...JSON_HEADERS, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Answers with no body (204 and friends). */
export function sendEmpty(res: ServerResponse, status: number, extra: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...BASE_HEADERS, "cache-control": "no-store", ...extra });
  res.end();
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Writes an HTTP error answer on a socket whose upgrade we refuse, then closes it. */
export function rejectUpgrade(socket: Duplex, err: unknown, extra: Record<string, string> = {}): void {
  const e = toHttpError(err);
  const status = e.status ?? statusOf(e.code);
  const body = JSON.stringify(e.toJSON());
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    ...Object.entries({ ...JSON_HEADERS, ...extra }).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
  ].join("\r\n");
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.on("error", () => socket.destroy());
  socket.end(`${head}\r\n\r\n${body}`);
  // A peer that never reads must not pin the socket.
  safetyTimer(() => socket.destroy(), 5_000);
}

/**
 * After refusing a body as too large, this much more is still read and discarded so the client
 * finishes sending and sees the 413 (closing mid-upload makes many clients report a reset
 * instead); beyond it, or after the time bound, the socket is destroyed.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;
export const DRAIN_LIMIT_MS = 5_000;

/**
 * Reads a request body up to `limit` bytes.
 * @throws ThroughlineError TL_PAYLOAD_TOO_LARGE (413) beyond the limit (the rest is drained, bounded).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => httpError("TL_PAYLOAD_TOO_LARGE", `the body exceeds maxInboundBytes (${limit} bytes); send smaller messages.`);
    const declared = Number(req.headers["content-length"]);
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (timer) clearTimeout(timer);
      fn();
    };
    const startDraining = () => {
      over = true;
      chunks.length = 0;
      timer = safetyTimer(() => {
        finish(() => reject(tooLarge()));
        req.socket.destroy();
      }, DRAIN_LIMIT_MS);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (!over) {
        if (total > limit) startDraining();
        else chunks.push(chunk);
      } else if (total > limit + DRAIN_LIMIT_BYTES) {
        finish(() => reject(tooLarge()));
        // Stop reading: the answer carries `connection: close` and the socket goes after it.
        req.pause();
      }
    };
    const onEnd = () => finish(() => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks, total).toString("utf8"))));
    const onError = (e: unknown) => finish(() => reject(e));
    const onClose = () => finish(() => reject(httpError("TL_BAD_REQUEST", "the request body was cut off.")));
    if (Number.isFinite(declared) && declared > limit + DRAIN_LIMIT_BYTES) {
      // Do not even drain what is announced as far too big.
      reject(tooLarge());
      return;
    }
    if (Number.isFinite(declared) && declared > limit) startDraining();
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
