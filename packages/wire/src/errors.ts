import { DEV } from "./dev.js";
import { statusOf, type ErrorCode } from "./error-codes.js";

export interface ThroughlineErrorOptions {
  /** HTTP status, where the error comes from (or becomes) an HTTP answer. */
  readonly status?: number;
  /** Close code, where the error closed a connection. */
  readonly closeCode?: number;
  readonly cause?: unknown;
}

/**
 * The one error class. `code` is stable (see the README's table); `message` says what happened
 * and what to do, always prefixed with "Throughline: ". Messages never contain tokens or tickets.
 * In a production bundle (`DEV` false, see `dev.ts`) callers pass only the key values and the
 * message is "Throughline: <code> <values>", so it still names the error.
 */
export class ThroughlineError extends Error {
  override readonly name = "ThroughlineError";
  // `declare`: assigned in the constructor, no separate field definitions to emit.
  declare readonly code: ErrorCode;
  declare readonly status: number | undefined;
  declare readonly closeCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: ThroughlineErrorOptions = {}) {
    super(`Throughline: ${DEV ? message : message ? `${code} ${message}` : code}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.closeCode = options.closeCode;
  }

  /** The JSON body the server answers with: `{"error":{"code","message"}}`. */
  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Builds the error the server answers a request with, its status taken from the code table. */
export function httpError(code: ErrorCode, message: string): ThroughlineError {
  return new ThroughlineError(code, message, { status: statusOf(code) });
}

export function isThroughlineError(value: unknown): value is ThroughlineError {
  return value instanceof ThroughlineError;
}
