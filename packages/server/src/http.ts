/**
 * Answers shared by the routes, whatever the runtime: the headers on every response, JSON error
 * answers, and raw answers on a node:http upgrade socket.
 */
import type { Duplex } from "node:stream";
import { safetyTimer } from "./clock.js";
import type { AnswerHeaders, Exchange } from "./exchange.js";
import { MARKER_HEADER, MARKER_VALUE, ThroughlineError, httpError, statusOf } from "@throughline/wire";

/** 503 for requests that arrive while the server shuts down: clients reconnect elsewhere and resume. */
export const closingError = () => httpError("TL_SERVER_CLOSING", "the server is shutting down; reconnect (to another instance) and resume.");


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

/** Converts anything thrown into the error the server answers with (unknown → TL_INTERNAL). */
export function toHttpError(err: unknown): ThroughlineError {
  if (err instanceof ThroughlineError && err.status !== undefined) return err;
  if (err instanceof ThroughlineError && err.code.startsWith("TL_") && statusOf(err.code) !== 500) {
    return new ThroughlineError(err.code, err.message.replace(/^Throughline: /, ""), { status: statusOf(err.code), cause: err });
  }
  return new ThroughlineError("TL_INTERNAL", "unexpected server error.", { status: 500, cause: err });
}

/** Answers with the JSON error body; aborts the exchange if an answer already started. */
export function sendError(ex: Exchange, err: unknown, extra: AnswerHeaders = {}, closeConnection = false): void {
  if (ex.answered) {
    ex.abort();
    return;
  }
  const e = toHttpError(err);
  ex.respond(e.status ?? statusOf(e.code), { ...JSON_HEADERS, ...extra }, JSON.stringify(e.toJSON()), closeConnection);
}

/** Answers 200 with a JSON text. */
export function sendJson(ex: Exchange, body: string): void {
  if (!ex.answered) ex.respond(200, JSON_HEADERS, body);
}

/** Answers with no body (204 and friends). */
export function sendEmpty(ex: Exchange, status: number, extra: AnswerHeaders = {}): void {
  if (!ex.answered) ex.respond(status, { ...BASE_HEADERS, "cache-control": "no-store", ...extra });
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

