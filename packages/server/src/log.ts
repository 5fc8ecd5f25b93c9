/**
 * Structured log events through the `logger` option. Two calling conventions exist: console's
 * `info(message, fields)` and pino's `info(fields, message)` (pino would drop fields passed
 * second). A pino-style logger is recognised by its `child()` and `level`, and called its way.
 */
import type { Logger } from "./security-options.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A logger's methods may be missing (`info`, `debug`): those events are then dropped. */
type AnyLogger = Partial<Record<LogLevel, (...args: unknown[]) => void>> & { child?: unknown; level?: unknown };

/** True for pino (and bunyan-like) loggers: object first, message second. */
export function isObjectFirst(logger: object): boolean {
  const l = logger as AnyLogger;
  return typeof l.child === "function" && typeof l.level === "string";
}

/** The logger as the server calls it: `(message, fields)`, `info`/`debug` only if the logger has them. */
export interface AdaptedLogger extends Logger {
  readonly info?: ((message: string, fields?: Record<string, unknown>) => void) | undefined;
  readonly debug?: ((message: string, fields?: Record<string, unknown>) => void) | undefined;
}

/**
 * Adapts the application's logger: `warn`/`error` (and optional `info`/`debug`) taking
 * `(message, fields)`, whatever convention the application's logger uses. Never throws.
 */
export function adaptLogger(logger: Logger): AdaptedLogger {
  const l = logger as unknown as AnyLogger;
  const objectFirst = isObjectFirst(logger);
  const at = (level: LogLevel) => {
    const fn = l[level];
    if (typeof fn !== "function") return undefined;
    return (message: string, fields: Record<string, unknown> = {}) => {
      try {
        if (objectFirst) fn.call(l, fields, message);
        else fn.call(l, message, fields);
      } catch {
        // A broken logger must not break serving.
      }
    };
  };
  return { warn: at("warn")!, error: at("error")!, info: at("info"), debug: at("debug") };
}
