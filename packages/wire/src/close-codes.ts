/**
 * Close codes without their descriptions: what a client needs at run time (does this close
 * reconnect?) in a few bytes, so the browser bundle does not carry the documentation table
 * (`codes.ts`). Every transport uses the same codes: WebSocket carries them natively (RFC 6455
 * §7.4: 4000–4999 are for applications), SSE and long-poll in a `close` control frame.
 */

/** Close codes by name. */
export const CloseCode = /* @__PURE__ */ Object.freeze({
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

// The defined closes that do not follow the rule below: 1000 ends for good, and these four
// application-range codes reconnect. Every other defined code already gets its answer from the
// rule (1001/1006/1009/1011 reconnect, 4400/4403/4409 are final).
const RECONNECT_IN_APP_RANGE: readonly number[] = [4401, 4404, 4408, 4429];

/**
 * Whether a client reconnects (and resumes) after this close. Codes Throughline does not define:
 * 4000–4999 are the application's own closes (final); anything else is treated as a dropped
 * connection (reconnect).
 */
export function closeReconnects(code: number): boolean {
  return code !== 1000 && (RECONNECT_IN_APP_RANGE.includes(code) || !(code >= 4000 && code <= 4999));
}

/** The name of a close code, or `"UNKNOWN"`. */
export function closeCodeName(code: number): CloseCodeName | "UNKNOWN" {
  for (const name in CloseCode) if (CloseCode[name as CloseCodeName] === code) return name as CloseCodeName;
  return "UNKNOWN";
}
