/**
 * Tagged errors: one per family of wire codes, so Effect programs recover with `catchTag`
 * instead of comparing code strings. Every error keeps the wire's stable `code` (TL_*), the HTTP
 * status and close code where there was one, and the original `ThroughlineError` as `cause`.
 *
 * The two tables below are typed as complete records over the wire's code names: a code added
 * to `@throughline/wire` without a family here does not type-check, and `test/Errors.test.ts`
 * checks the tables against the wire's `ERROR_CODES` / `CLOSE_CODES` at run time too.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data";
import { ThroughlineError, closeCodeName, type CloseCodeName, type ErrorCode } from "@throughline/wire";

/** What every tagged error carries besides its tag. @since 0.1.0 @category models */
export interface ErrorFields {
  /** The wire's stable code (see the README's error table). */
  readonly code: ErrorCode;
  readonly message: string;
  /** HTTP status, where the error was (or became) an HTTP answer. */
  readonly status?: number | undefined;
  /** Close code, where the error closed a connection. */
  readonly closeCode?: number | undefined;
  readonly cause?: unknown;
}

/** The application did not authenticate the request, or credentials expired (401, close 4401). @since 0.1.0 @category errors */
export class AuthError extends Data.TaggedError("AuthError")<ErrorFields> {}
/** The application refused the client or a topic (403, close 4403). @since 0.1.0 @category errors */
export class ForbiddenError extends Data.TaggedError("ForbiddenError")<ErrorFields> {}
/** Too many connections or requests (429, close 4429): back off. @since 0.1.0 @category errors */
export class RateLimitedError extends Data.TaggedError("RateLimitedError")<ErrorFields> {}
/** A message over a size limit, either direction (413, close 1009). @since 0.1.0 @category errors */
export class TooBigError extends Data.TaggedError("TooBigError")<ErrorFields> {}
/** The network or the server went away: refused, timed out, cut, shutting down, closed. @since 0.1.0 @category errors */
export class ConnectionLostError extends Data.TaggedError("ConnectionLostError")<ErrorFields> {}
/** Bytes or requests that do not follow the protocol (a bug, a version skew or an intermediary). @since 0.1.0 @category errors */
export class ProtocolError extends Data.TaggedError("ProtocolError")<ErrorFields> {}
/** The shared history (the multi-node backplane) is unreachable or too slow (503, close 1001): the publish was not stored. @since 0.1.0 @category errors */
export class BackplaneError extends Data.TaggedError("BackplaneError")<ErrorFields> {}
/** The caller passed something invalid: a topic, event name, option or data JSON cannot carry. @since 0.1.0 @category errors */
export class InvalidInputError extends Data.TaggedError("InvalidInputError")<ErrorFields> {}

/**
 * Data that did not match a topic's `Schema`: `direction` "encode" on publish (nothing was
 * sent), "decode" on receipt (the message is reported instead of crashing the stream).
 * @since 0.1.0 @category errors
 */
export class SchemaMismatchError extends Data.TaggedError("SchemaMismatchError")<{
  readonly direction: "encode" | "decode";
  readonly topic: string;
  /** Message id, on decode. */
  readonly id?: string | undefined;
  readonly message: string;
  readonly cause: unknown;
}> {}

/** Every family, as a union (what a channel's streams and a publish can fail with). @since 0.1.0 @category models */
export type WireError = AuthError | ForbiddenError | RateLimitedError | TooBigError | ConnectionLostError | ProtocolError | InvalidInputError | BackplaneError;

/** The tags of the wire families. @since 0.1.0 @category models */
export type WireErrorTag = WireError["_tag"];

const FAMILIES = {
  AuthError,
  ForbiddenError,
  RateLimitedError,
  TooBigError,
  ConnectionLostError,
  ProtocolError,
  InvalidInputError,
  BackplaneError,
} as const satisfies Record<WireErrorTag, new (fields: ErrorFields) => WireError>;

/**
 * Family of every error code. A `Record` over `ErrorCode`, so a new wire code is a type error
 * until it is placed here.
 * @since 0.1.0 @category tables
 */
export const FAMILY_OF_CODE: Readonly<Record<ErrorCode, WireErrorTag>> = Object.freeze({
  TL_UNAUTHORIZED: "AuthError",
  TL_FORBIDDEN: "ForbiddenError",
  TL_RATE_LIMITED: "RateLimitedError",
  TL_PAYLOAD_TOO_LARGE: "TooBigError",
  TL_MESSAGE_TOO_BIG: "TooBigError",
  TL_SERVER_CLOSING: "ConnectionLostError",
  TL_HTTP_STATUS: "ConnectionLostError",
  TL_NOT_EVENT_STREAM: "ConnectionLostError",
  TL_CONNECT_TIMEOUT: "ConnectionLostError",
  TL_CONNECT_FAILED: "ConnectionLostError",
  TL_CONNECTION_LOST: "ConnectionLostError",
  TL_NO_TRANSPORT: "ConnectionLostError",
  TL_CLOSED: "ConnectionLostError",
  TL_SEND_FAILED: "ConnectionLostError",
  // A gap is what a lost connection leaves when the history could not cover the resume.
  TL_GAP: "ConnectionLostError",
  TL_BACKPLANE_UNAVAILABLE: "BackplaneError",
  TL_NOT_FOUND: "ProtocolError",
  TL_METHOD_NOT_ALLOWED: "ProtocolError",
  TL_TRANSPORT_DISABLED: "ProtocolError",
  TL_UPGRADE_REQUIRED: "ProtocolError",
  TL_UNKNOWN_SESSION: "ProtocolError",
  TL_BAD_REQUEST: "ProtocolError",
  TL_BAD_MESSAGE: "ProtocolError",
  TL_INTERNAL: "ProtocolError",
  TL_BAD_FRAME: "ProtocolError",
  TL_NO_WEBSOCKET: "InvalidInputError",
  TL_INVALID_OPTION: "InvalidInputError",
  TL_BAD_TOPIC: "InvalidInputError",
  TL_BAD_EVENT: "InvalidInputError",
  TL_BAD_DATA: "InvalidInputError",
});

/**
 * Family of every close code (for a close that carries no error). A `Record` over the wire's
 * close code names, so a new close code is a type error until it is placed here.
 * @since 0.1.0 @category tables
 */
export const FAMILY_OF_CLOSE: Readonly<Record<CloseCodeName, WireErrorTag>> = Object.freeze({
  NORMAL: "ConnectionLostError",
  GOING_AWAY: "ConnectionLostError",
  ABNORMAL: "ConnectionLostError",
  TOO_SLOW: "ConnectionLostError",
  REPLACED: "ConnectionLostError",
  UNKNOWN_SESSION: "ConnectionLostError",
  MESSAGE_TOO_BIG: "TooBigError",
  INTERNAL_ERROR: "ProtocolError",
  BAD_REQUEST: "ProtocolError",
  AUTH_EXPIRED: "AuthError",
  FORBIDDEN: "ForbiddenError",
  RATE_LIMITED: "RateLimitedError",
});

/** Close codes map to this code when the close carries no error. */
const CLOSE_CODE_ERROR: Readonly<Record<WireErrorTag, ErrorCode>> = Object.freeze({
  AuthError: "TL_UNAUTHORIZED",
  ForbiddenError: "TL_FORBIDDEN",
  RateLimitedError: "TL_RATE_LIMITED",
  TooBigError: "TL_PAYLOAD_TOO_LARGE",
  ConnectionLostError: "TL_CONNECTION_LOST",
  ProtocolError: "TL_BAD_FRAME",
  InvalidInputError: "TL_INVALID_OPTION",
  BackplaneError: "TL_BACKPLANE_UNAVAILABLE",
});

/**
 * The tagged error for a `ThroughlineError` (anything else becomes a `ProtocolError` with code
 * TL_INTERNAL and the value as `cause`: a bug, never a network condition).
 * @since 0.1.0 @category constructors
 */
export function fromThroughlineError(error: unknown): WireError {
  if (error instanceof ThroughlineError) {
    const Family = FAMILIES[FAMILY_OF_CODE[error.code] ?? "ProtocolError"];
    return new Family({ code: error.code, message: error.message, status: error.status, closeCode: error.closeCode, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProtocolError({ code: "TL_INTERNAL", message: `Throughline: unexpected failure: ${message}`, cause: error });
}

/**
 * The tagged error for a channel's final close (`{ code, reason, error? }`): the error's family
 * when it has one, else the close code's.
 * @since 0.1.0 @category constructors
 */
export function fromClose(info: { readonly code: number; readonly reason: string; readonly error?: ThroughlineError | undefined }): WireError {
  if (info.error) return fromThroughlineError(info.error);
  const name = closeCodeName(info.code);
  const tag: WireErrorTag = name === "UNKNOWN" ? "ProtocolError" : FAMILY_OF_CLOSE[name];
  return new FAMILIES[tag]({ code: CLOSE_CODE_ERROR[tag], message: `Throughline: closed with ${info.code} ${info.reason}`.trim(), closeCode: info.code });
}
