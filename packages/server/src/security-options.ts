/**
 * The security options of `createServer` (authentication, tickets, CORS, limits, logging), their
 * frozen defaults and their validation. Defaults are meant for production: every limit is on,
 * CORS is off (same-origin only), tokens are never logged.
 */
import { ThroughlineError } from "@throughline/wire";
import type { Authenticate, Authorize } from "./auth.js";
import { resolveCors, type CorsOptions, type ResolvedCors } from "./cors.js";
import { adaptLogger, type AdaptedLogger } from "./log.js";
import { int, invalid } from "./validate.js";

/**
 * Where the server reports refusals (401/403/429, refused origins) and its own errors. Fields
 * never hold tokens, tickets, query strings or header values. `console` fits.
 */
export interface Logger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SecurityOptions {
  /**
   * Authenticates every request (SSE, long-poll, sends, ticket exchange, WebSocket upgrades
   * without a ticket). See `Authenticate`. @default undefined (no authentication)
   */
  authenticate?: Authenticate;
  /** Authorizes each topic a connection asks for. See `Authorize`. @default undefined (all topics allowed) */
  authorize?: Authorize;
  /** Cross-origin access from browser pages. @default undefined (same-origin only: no CORS headers) */
  cors?: CorsOptions;
  /**
   * Use the left-most `X-Forwarded-For` address as the client address (per-address limits) and
   * accept `X-Forwarded-Host` as same-origin. Only behind a proxy that sets these headers itself.
   * @default false
   */
  trustProxy?: boolean;
  /**
   * Receives refusals and server errors (never secrets), and with `info` the structured events of
   * `stats` (connections, client negotiation reports, slow-consumer closes). `console` and pino
   * both fit (pino is called object-first). @default undefined (nothing is logged)
   */
  logger?: Logger;
  /** Lifetime of a WebSocket ticket (`POST P/ticket`). @default 30_000 */
  ticketTtlMs?: number;
  /** Unexpired tickets outstanding at once on this node (per node, also with a backplane); beyond, 429. @default 10_000 */
  maxTickets?: number;
  /** Open connections (SSE streams, WebSockets, long-poll connections) in total on this node (per node, also with a backplane); beyond, 429. @default 10_000 */
  maxConnections?: number;
  /** Open connections per client address (with a backplane: clients across all nodes); beyond, 429. Raise it when many users share one NAT address. @default 100 */
  maxConnectionsPerAddress?: number;
  /**
   * Open connections per authenticated user (see `Principal.key`), and its outstanding tickets;
   * beyond, 429. With a backplane: clients across all nodes. @default 20
   */
  maxConnectionsPerUser?: number;
  /** Topics one connection may name; beyond, 400 TL_BAD_TOPIC. @default 64 */
  maxTopicsPerConnection?: number;
  /** Long-poll requests per session per second (bursts of this size pass; with a backplane: on all nodes); beyond, 429. @default 20 */
  maxPollsPerSecond?: number;
  /** `listen()` only: largest request head (431 beyond, by node:http). @default 16_384 */
  maxHeaderBytes?: number;
  /** `listen()` only: time to receive a request's headers (slow-loris), then 408 and close. @default 10_000 */
  headersTimeoutMs?: number;
  /** `listen()` only: time to receive a whole request (headers and body), then 408. @default 30_000 */
  requestTimeoutMs?: number;
}

/** Defaults of the security options that have a value. */
export const DEFAULT_SECURITY_OPTIONS = Object.freeze({
  trustProxy: false,
  ticketTtlMs: 30_000,
  maxTickets: 10_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 100,
  maxConnectionsPerUser: 20,
  maxTopicsPerConnection: 64,
  maxPollsPerSecond: 20,
  maxHeaderBytes: 16_384,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
});

export interface ResolvedSecurity {
  readonly authenticate: Authenticate | undefined;
  readonly authorize: Authorize | undefined;
  readonly cors: ResolvedCors | undefined;
  readonly trustProxy: boolean;
  readonly logger: AdaptedLogger | undefined;
  readonly ticketTtlMs: number;
  readonly maxTickets: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly maxConnectionsPerUser: number;
  readonly maxTopicsPerConnection: number;
  readonly maxPollsPerSecond: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}


function fn<T>(name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== "function") throw invalid(name, "must be a function");
  return value as T | undefined;
}

/** Applies defaults and validates. @throws ThroughlineError TL_INVALID_OPTION */
export function resolveSecurityOptions(o: SecurityOptions): ResolvedSecurity {
  const d = DEFAULT_SECURITY_OPTIONS;
  if (o.trustProxy !== undefined && typeof o.trustProxy !== "boolean") throw invalid("trustProxy", "must be a boolean");
  const logger = o.logger;
  if (logger !== undefined && (typeof logger !== "object" || logger === null || typeof logger.warn !== "function" || typeof logger.error !== "function")) {
    throw invalid("logger", "must have warn() and error() (console fits)");
  }
  const resolved: ResolvedSecurity = Object.freeze({
    authenticate: fn<Authenticate>("authenticate", o.authenticate),
    authorize: fn<Authorize>("authorize", o.authorize),
    cors: resolveCors(o.cors),
    trustProxy: o.trustProxy ?? d.trustProxy,
    // Called as (message, fields) everywhere; pino-style loggers get (fields, message): see log.ts.
    logger: logger && adaptLogger(logger),
    ticketTtlMs: int("ticketTtlMs", o.ticketTtlMs, d.ticketTtlMs, 1, 600_000),
    maxTickets: int("maxTickets", o.maxTickets, d.maxTickets, 1, 10_000_000),
    maxConnections: int("maxConnections", o.maxConnections, d.maxConnections, 1, 100_000_000),
    maxConnectionsPerAddress: int("maxConnectionsPerAddress", o.maxConnectionsPerAddress, d.maxConnectionsPerAddress, 1, 100_000_000),
    maxConnectionsPerUser: int("maxConnectionsPerUser", o.maxConnectionsPerUser, d.maxConnectionsPerUser, 1, 100_000_000),
    // 256 is the protocol's own bound (wire's MAX_TOPICS_PER_CONNECTION).
    maxTopicsPerConnection: int("maxTopicsPerConnection", o.maxTopicsPerConnection, d.maxTopicsPerConnection, 1, 256),
    maxPollsPerSecond: int("maxPollsPerSecond", o.maxPollsPerSecond, d.maxPollsPerSecond, 1, 10_000),
    maxHeaderBytes: int("maxHeaderBytes", o.maxHeaderBytes, d.maxHeaderBytes, 1_024, 1024 * 1024),
    headersTimeoutMs: int("headersTimeoutMs", o.headersTimeoutMs, d.headersTimeoutMs, 100, 600_000),
    requestTimeoutMs: int("requestTimeoutMs", o.requestTimeoutMs, d.requestTimeoutMs, 100, 3_600_000),
  });
  // node:http refuses a header timeout longer than the whole-request timeout.
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw invalid("headersTimeoutMs", `(${resolved.headersTimeoutMs}) must not exceed \`requestTimeoutMs\` (${resolved.requestTimeoutMs})`);
  }
  return resolved;
}
