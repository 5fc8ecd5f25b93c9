/**
 * The one table of close codes and the one table of error codes. Every transport uses the same
 * close codes: WebSocket carries them natively (RFC 6455 §7.4: 4000–4999 are for applications),
 * SSE and long-poll carry them in a `close` control frame.
 */

export interface CloseCodeInfo {
  readonly code: number;
  readonly name: string;
  /** Whether a client should reconnect (and resume) after this close. */
  readonly reconnect: boolean;
  readonly description: string;
}

/** Close codes by name. */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  BAD_REQUEST: 4400,
  AUTH_EXPIRED: 4401,
  FORBIDDEN: 4403,
  UNKNOWN_SESSION: 4404,
  TOO_SLOW: 4408,
  REPLACED: 4409,
  RATE_LIMITED: 4429,
} as const);

export type CloseCodeName = keyof typeof CloseCode;

const closeTable: readonly CloseCodeInfo[] = [
  { code: 1000, name: "NORMAL", reconnect: false, description: "Closed on purpose by the client or the application." },
  { code: 1001, name: "GOING_AWAY", reconnect: true, description: "The server is shutting down or restarting: reconnect (to another instance if there is one) and resume." },
  { code: 1006, name: "ABNORMAL", reconnect: true, description: "The connection dropped without a close frame. Never sent; reported by the client." },
  { code: 1009, name: "MESSAGE_TOO_BIG", reconnect: true, description: "A client→server message exceeded the server's size limit." },
  { code: 1011, name: "INTERNAL_ERROR", reconnect: true, description: "The server hit an unexpected error on this connection." },
  { code: 4400, name: "BAD_REQUEST", reconnect: false, description: "The server could not understand the connection request." },
  { code: 4401, name: "AUTH_EXPIRED", reconnect: true, description: "Credentials expired mid-stream: refresh the token, then reconnect and resume." },
  { code: 4403, name: "FORBIDDEN", reconnect: false, description: "The application refused this client or topic." },
  { code: 4404, name: "UNKNOWN_SESSION", reconnect: true, description: "The session expired or never existed: start a new one and resume from the cursor." },
  { code: 4408, name: "TOO_SLOW", reconnect: true, description: "The client read too slowly and its outbound buffer filled: reconnect and resume from history." },
  { code: 4409, name: "REPLACED", reconnect: false, description: "Another connection of the same session took over (a transport switch)." },
  { code: 4429, name: "RATE_LIMITED", reconnect: true, description: "Too many connections or requests: back off, then reconnect." },
];

/** All close codes with their meaning, for documentation and lookup. */
export const CLOSE_CODES: readonly CloseCodeInfo[] = Object.freeze(closeTable.map((c) => Object.freeze(c)));

const closeByCode = new Map(CLOSE_CODES.map((c) => [c.code, c]));

/** Looks up a close code. Unknown codes in 4000–4999 are treated as application closes (no reconnect). */
export function closeCodeInfo(code: number): CloseCodeInfo {
  return (
    closeByCode.get(code) ?? {
      code,
      name: "UNKNOWN",
      reconnect: !(code >= 4000 && code <= 4999) && code !== 1000,
      description: "A close code Throughline does not define.",
    }
  );
}

export interface ErrorCodeInfo {
  readonly code: string;
  /** HTTP status the server answers with, where the error is the server's answer to a request. */
  readonly status?: number;
  readonly description: string;
}

const errorTable = [
  // Answers of the server to a request.
  { code: "TL_NOT_FOUND", status: 404, description: "No such route under the Throughline path." },
  { code: "TL_METHOD_NOT_ALLOWED", status: 405, description: "The route exists but not for this HTTP method." },
  { code: "TL_TRANSPORT_DISABLED", status: 404, description: "The transport is turned off in the server's `transports` option." },
  { code: "TL_UPGRADE_REQUIRED", status: 426, description: "The WebSocket route was requested without a WebSocket upgrade." },
  { code: "TL_UNKNOWN_SESSION", status: 404, description: "The session id is unknown or expired; the client starts a new session." },
  { code: "TL_BAD_REQUEST", status: 400, description: "A malformed query parameter or header." },
  { code: "TL_BAD_TOPIC", status: 400, description: "A topic name is empty, too long or has characters outside [A-Za-z0-9_.:/-]." },
  { code: "TL_BAD_MESSAGE", status: 400, description: "A client→server body or frame is not valid JSON of the protocol." },
  { code: "TL_PAYLOAD_TOO_LARGE", status: 413, description: "A client→server body or frame is larger than `maxInboundBytes`." },
  { code: "TL_UNAUTHORIZED", status: 401, description: "The application did not authenticate the request." },
  { code: "TL_FORBIDDEN", status: 403, description: "The application refused the request or topic." },
  { code: "TL_RATE_LIMITED", status: 429, description: "Too many connections or requests." },
  { code: "TL_SERVER_CLOSING", status: 503, description: "The server is shutting down." },
  { code: "TL_INTERNAL", status: 500, description: "An unexpected server error (a bug: please report it)." },
  // Raised by the client.
  { code: "TL_BAD_FRAME", description: "The server (or an intermediary) sent bytes that are not a Throughline frame." },
  { code: "TL_HTTP_STATUS", description: "An unexpected HTTP status, not produced by the Throughline server (an intermediary)." },
  { code: "TL_NOT_EVENT_STREAM", description: "The SSE route answered without `text/event-stream`." },
  { code: "TL_CONNECT_TIMEOUT", description: "No hello arrived within `connectTimeoutMs`." },
  { code: "TL_CONNECT_FAILED", description: "The network request failed (refused, reset, DNS)." },
  { code: "TL_CONNECTION_LOST", description: "An open connection ended without a close frame." },
  { code: "TL_NO_TRANSPORT", description: "Every transport failed in this round; the client backs off and tries again." },
  { code: "TL_NO_WEBSOCKET", description: "No WebSocket constructor: pass `WebSocket` (in Node 20 use `@throughline/client/node`)." },
  { code: "TL_CLOSED", description: "The channel is closed." },
  { code: "TL_SEND_FAILED", description: "A client→server message could not be delivered." },
  // Raised to the application by API misuse.
  { code: "TL_INVALID_OPTION", description: "An option is out of range or conflicts with another." },
  { code: "TL_BAD_EVENT", description: "An event name is empty, reserved, too long or has control characters." },
  { code: "TL_BAD_DATA", description: "Published data cannot be serialized as JSON." },
  { code: "TL_MESSAGE_TOO_BIG", description: "A published message is larger than `maxOutboundBytes`." },
] as const satisfies readonly ErrorCodeInfo[];

export type ErrorCode = (typeof errorTable)[number]["code"];

/** All error codes with their HTTP status (where the server answers with it) and meaning. */
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(errorTable.map((e) => Object.freeze({ ...e })));

const errorByCode = new Map<string, ErrorCodeInfo>(ERROR_CODES.map((e) => [e.code, e]));

export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return errorByCode.get(code);
}

/** HTTP status for an error code the server answers with (500 if it has none). */
export function statusOf(code: ErrorCode): number {
  return errorByCode.get(code)?.status ?? 500;
}
