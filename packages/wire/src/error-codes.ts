/**
 * The one table of error codes: for each, the HTTP status the server answers with, the close
 * code a connection ends with when the error happens after it opened (a WebSocket refused after
 * its upgrade, a `close` frame), and whether the client reconnects. Kept without descriptions so
 * run-time lookups stay small in the browser bundle; the descriptions live in `codes.ts`.
 *
 * `null` status: raised by the client or the API, never an HTTP answer. `null` close: the error
 * never ends an open connection.
 */
import { CloseCode, closeReconnects } from "./close-codes.js";
import { isErrorCodeName } from "./error-code-names.js";

/** One row: `[status, close]`. Reconnect follows the close code (see `reconnectsAfter`). */
type Row = readonly [status: number | null, close: number | null];

// Close codes as numbers (see `CloseCode`; a test checks each against it). The client bundle does
// not carry this table: `isErrorCode` reads the names-only list of `error-code-names.ts`.
const TABLE = {
  TL_NOT_FOUND: [404, 4400],
  TL_METHOD_NOT_ALLOWED: [405, 4400],
  TL_TRANSPORT_DISABLED: [404, 4400],
  TL_UPGRADE_REQUIRED: [426, null],
  TL_UNKNOWN_SESSION: [404, 4404],
  TL_BAD_REQUEST: [400, 4400],
  TL_BAD_TOPIC: [400, 4400],
  TL_BAD_MESSAGE: [400, 4400],
  TL_PAYLOAD_TOO_LARGE: [413, 1009],
  TL_UNAUTHORIZED: [401, 4401],
  TL_FORBIDDEN: [403, 4403],
  TL_RATE_LIMITED: [429, 4429],
  TL_SERVER_CLOSING: [503, 1001],
  TL_INTERNAL: [500, 1011],
  TL_BACKPLANE_UNAVAILABLE: [503, 1001],
  TL_BAD_FRAME: [null, null],
  TL_HTTP_STATUS: [null, null],
  TL_NOT_EVENT_STREAM: [null, null],
  TL_CONNECT_TIMEOUT: [null, null],
  TL_CONNECT_FAILED: [null, 1006],
  TL_CONNECTION_LOST: [null, 1006],
  TL_NO_TRANSPORT: [null, null],
  TL_NO_WEBSOCKET: [null, null],
  TL_CLOSED: [null, 1000],
  TL_SEND_FAILED: [null, null],
  TL_INVALID_OPTION: [null, null],
  TL_BAD_EVENT: [null, null],
  TL_BAD_DATA: [null, null],
  TL_MESSAGE_TOO_BIG: [null, null],
  TL_GAP: [null, null],
} as const satisfies Record<string, Row>;

export type ErrorCode = keyof typeof TABLE;

/** One column of the table as a frozen record (pure: a bundle that never reads it drops it). */
function column(i: 0 | 1): never {
  return Object.freeze(Object.fromEntries(Object.entries(TABLE).map(([code, row]) => [code, row[i]]))) as never;
}

/** HTTP status per error code (`null`: never an HTTP answer). Derived from the one table. */
export const ERROR_STATUS: { readonly [K in ErrorCode]: (typeof TABLE)[K][0] } = /* @__PURE__ */ column(0);

/** Close code per error code (`null`: the error never ends an open connection). */
export const ERROR_CLOSE: { readonly [K in ErrorCode]: (typeof TABLE)[K][1] } = /* @__PURE__ */ column(1);

/** Whether `value` is one of the error codes (checked against the names-only list, not this table). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return isErrorCodeName(value);
}

/** HTTP status for an error code the server answers with (500 if it has none). */
export function statusOf(code: ErrorCode): number {
  return TABLE[code][0] ?? 500;
}

/**
 * The close code a connection that already opened ends with for this error (a WebSocket
 * refused after its upgrade, a stream ended by the server). Unknown codes: 1011.
 */
export function closeCodeOf(code: string): number {
  return (isErrorCode(code) ? TABLE[code][1] : null) ?? CloseCode.INTERNAL_ERROR;
}

/**
 * Whether a client reconnects after this error: it does when the error's close code reconnects
 * (`closeReconnects`); errors without a close code are the caller's or the network's and the
 * client's negotiator decides (reported `false` here).
 */
export function reconnectsAfter(code: ErrorCode): boolean {
  const close = TABLE[code][1];
  return close !== null && closeReconnects(close);
}
