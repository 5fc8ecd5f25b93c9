/**
 * The error codes' names alone, without the status and close-code columns of `error-codes.ts`:
 * the browser client needs only `isErrorCode`, so it ships this list and not the table. A test
 * checks that it lists exactly the table's codes, in its order.
 */

/** The codes without their `TL_` prefix, space-separated (the shortest form in a bundle). */
const NAMES = "NOT_FOUND METHOD_NOT_ALLOWED TRANSPORT_DISABLED UPGRADE_REQUIRED UNKNOWN_SESSION BAD_REQUEST BAD_TOPIC BAD_MESSAGE PAYLOAD_TOO_LARGE UNAUTHORIZED FORBIDDEN RATE_LIMITED SERVER_CLOSING INTERNAL BACKPLANE_UNAVAILABLE BAD_FRAME HTTP_STATUS NOT_EVENT_STREAM CONNECT_TIMEOUT CONNECT_FAILED CONNECTION_LOST NO_TRANSPORT NO_WEBSOCKET CLOSED SEND_FAILED INVALID_OPTION BAD_EVENT BAD_DATA MESSAGE_TOO_BIG GAP".split(" ");

/** Every error code, in the table's order (`TL_NOT_FOUND`, …). */
export const ERROR_CODE_NAMES: readonly string[] = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ NAMES.map((n) => `TL_${n}`));

/** Whether `value` is one of the error codes (a string from `ERROR_CODE_NAMES`). */
export function isErrorCodeName(value: unknown): boolean {
  return typeof value === "string" && value.startsWith("TL_") && NAMES.includes(value.slice(3));
}
