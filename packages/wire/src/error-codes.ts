/**
 * Error codes with their HTTP status (`null`: raised by the client or the API, never an HTTP
 * answer), without descriptions, so run-time lookups stay small in the browser bundle. The
 * descriptions live in `codes.ts`.
 */

export const ERROR_STATUS = Object.freeze({
  TL_NOT_FOUND: 404,
  TL_METHOD_NOT_ALLOWED: 405,
  TL_TRANSPORT_DISABLED: 404,
  TL_UPGRADE_REQUIRED: 426,
  TL_UNKNOWN_SESSION: 404,
  TL_BAD_REQUEST: 400,
  TL_BAD_TOPIC: 400,
  TL_BAD_MESSAGE: 400,
  TL_PAYLOAD_TOO_LARGE: 413,
  TL_UNAUTHORIZED: 401,
  TL_FORBIDDEN: 403,
  TL_RATE_LIMITED: 429,
  TL_SERVER_CLOSING: 503,
  TL_INTERNAL: 500,
  TL_BACKPLANE_UNAVAILABLE: 503,
  TL_BAD_FRAME: null,
  TL_HTTP_STATUS: null,
  TL_NOT_EVENT_STREAM: null,
  TL_CONNECT_TIMEOUT: null,
  TL_CONNECT_FAILED: null,
  TL_CONNECTION_LOST: null,
  TL_NO_TRANSPORT: null,
  TL_NO_WEBSOCKET: null,
  TL_CLOSED: null,
  TL_SEND_FAILED: null,
  TL_INVALID_OPTION: null,
  TL_BAD_EVENT: null,
  TL_BAD_DATA: null,
  TL_MESSAGE_TOO_BIG: null,
} as const);

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** HTTP status for an error code the server answers with (500 if it has none). */
export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code] ?? 500;
}
