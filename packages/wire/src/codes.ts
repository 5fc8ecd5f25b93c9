/**
 * The one table of close codes and the one table of error codes, with their meaning, for
 * documentation, the README and server-side lookups. The run-time essentials (reconnect or not,
 * HTTP status) are in `close-codes.ts` and `error-codes.ts`, so clients need not bundle the prose.
 */
import { CloseCode, closeCodeName, closeReconnects, type CloseCodeName } from "./close-codes.js";
import { ERROR_CLOSE, ERROR_STATUS, reconnectsAfter, type ErrorCode } from "./error-codes.js";

export interface CloseCodeInfo {
  readonly code: number;
  readonly name: string;
  /** Whether a client should reconnect (and resume) after this close. */
  readonly reconnect: boolean;
  readonly description: string;
}

const closeDescriptions: Readonly<Record<CloseCodeName, string>> = {
  NORMAL: "Closed on purpose by the client or the application.",
  GOING_AWAY: "The server is shutting down or restarting: reconnect (to another instance if there is one) and resume.",
  ABNORMAL: "The connection dropped without a close frame. Never sent; reported by the client.",
  MESSAGE_TOO_BIG: "A client→server message exceeded the server's size limit.",
  INTERNAL_ERROR: "The server hit an unexpected error on this connection.",
  BAD_REQUEST: "The server could not understand the connection request.",
  AUTH_EXPIRED: "Credentials expired mid-stream: refresh the token, then reconnect and resume.",
  FORBIDDEN: "The application refused this client or topic.",
  UNKNOWN_SESSION: "The session expired or never existed: start a new one and resume from the cursor.",
  TOO_SLOW: "The client read too slowly and its outbound buffer filled: reconnect and resume from history.",
  REPLACED: "Another connection of the same session took over (a transport switch).",
  RATE_LIMITED: "Too many connections or requests: back off, then reconnect.",
};

/** All close codes with their meaning, for documentation and lookup. */
export const CLOSE_CODES: readonly CloseCodeInfo[] = Object.freeze(
  (Object.keys(CloseCode) as CloseCodeName[]).map((name) =>
    Object.freeze({ code: CloseCode[name], name, reconnect: closeReconnects(CloseCode[name]), description: closeDescriptions[name] }),
  ),
);

/** Looks up a close code. Unknown codes in 4000–4999 are treated as application closes (no reconnect). */
export function closeCodeInfo(code: number): CloseCodeInfo {
  const name = closeCodeName(code);
  return {
    code,
    name,
    reconnect: closeReconnects(code),
    description: name === "UNKNOWN" ? "A close code Throughline does not define." : closeDescriptions[name],
  };
}

export interface ErrorCodeInfo {
  readonly code: string;
  /** HTTP status the server answers with, where the error is the server's answer to a request. */
  readonly status?: number;
  /** Close code a connection that already opened ends with for this error, where it can. */
  readonly close?: number;
  /** Whether the client reconnects (and resumes) after it (see `reconnectsAfter`). */
  readonly reconnect: boolean;
  readonly description: string;
}

const errorDescriptions: Readonly<Record<ErrorCode, string>> = {
  TL_NOT_FOUND: "No such route under the Throughline path.",
  TL_METHOD_NOT_ALLOWED: "The route exists but not for this HTTP method.",
  TL_TRANSPORT_DISABLED: "The transport is turned off in the server's `transports` option.",
  TL_UPGRADE_REQUIRED: "The WebSocket route was requested without a WebSocket upgrade.",
  TL_UNKNOWN_SESSION: "The session id is unknown or expired; the client starts a new session.",
  TL_BAD_REQUEST: "A malformed query parameter or header.",
  TL_BAD_TOPIC: "A topic name is empty, too long or has characters outside [A-Za-z0-9_.:/-].",
  TL_BAD_MESSAGE: "A client→server body or frame is not valid JSON of the protocol.",
  TL_PAYLOAD_TOO_LARGE: "A client→server body or frame is larger than `maxInboundBytes`.",
  TL_UNAUTHORIZED: "The application did not authenticate the request.",
  TL_FORBIDDEN: "The application refused the request or topic.",
  TL_RATE_LIMITED: "Too many connections or requests.",
  TL_SERVER_CLOSING: "The server is shutting down.",
  TL_INTERNAL: "An unexpected server error (a bug: please report it).",
  TL_BACKPLANE_UNAVAILABLE: "The shared history (e.g. Redis) is unreachable or did not answer in time; the operation is not confirmed.",
  TL_BAD_FRAME: "The server (or an intermediary) sent bytes that are not a Throughline frame.",
  TL_HTTP_STATUS: "An unexpected HTTP status, not produced by the Throughline server (an intermediary).",
  TL_NOT_EVENT_STREAM: "The SSE route answered without `text/event-stream`.",
  TL_CONNECT_TIMEOUT: "No hello arrived within `connectTimeoutMs`.",
  TL_CONNECT_FAILED: "The network request failed (refused, reset, DNS).",
  TL_CONNECTION_LOST: "An open connection ended without a close frame.",
  TL_NO_TRANSPORT: "Every transport failed in this round; the client backs off and tries again.",
  TL_NO_WEBSOCKET: "No WebSocket constructor: pass `WebSocket` (in Node 20 use `@throughline/client/node`).",
  TL_CLOSED: "The channel is closed.",
  TL_SEND_FAILED: "A client→server message could not be delivered.",
  TL_INVALID_OPTION: "An option is out of range or conflicts with another.",
  TL_BAD_EVENT: "An event name is empty, reserved, too long or has control characters.",
  TL_BAD_DATA: "Published data cannot be serialized as JSON.",
  TL_MESSAGE_TOO_BIG: "A published message is larger than `maxOutboundBytes`.",
  TL_GAP: "Messages may have been missed (the history could not cover a resume): the `error` event of `@throughline/client/eventsource` carries the gap; refetch that topic's state.",
};

/** All error codes with their HTTP status, close code (where they have one), reconnect rule and meaning. */
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(
  (Object.keys(ERROR_STATUS) as ErrorCode[]).map((code) => {
    const status: number | null = ERROR_STATUS[code];
    const close: number | null = ERROR_CLOSE[code];
    return Object.freeze({
      code,
      ...(status === null ? {} : { status }),
      ...(close === null ? {} : { close }),
      reconnect: reconnectsAfter(code),
      description: errorDescriptions[code],
    });
  }),
);

export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return ERROR_CODES.find((e) => e.code === code);
}
