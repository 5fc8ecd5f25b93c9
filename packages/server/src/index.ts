export { createServer, CLOSE_GRACE_MS } from "./server.js";
export type { ListenResult, ThroughlineServer } from "./server.js";
export { DEFAULT_HISTORY_OPTIONS, DEFAULT_SERVER_OPTIONS } from "./options.js";
export type { HistoryOptions, ServerOptions } from "./options.js";
export type { Clock } from "./clock.js";
export type { Session } from "./session.js";
export type { PublishOptions } from "./hub.js";
export { History } from "./history.js";
export { DEFAULT_MEMORY_HISTORY_STORE_OPTIONS, MemoryHistoryStore } from "./history-store.js";
export type { HistoryStore, MemoryHistoryStoreOptions } from "./history-store.js";
export { CLIENT_TIMEOUT_HEARTBEATS, CLIENT_TIMEOUT_SLACK_MS } from "./options.js";
export type { HistoryConfig, HistoryEntry, SinceResult } from "./history.js";
export { DEFAULT_SECURITY_OPTIONS } from "./security-options.js";
export type { Logger, SecurityOptions } from "./security-options.js";
export { DEFAULT_CORS_OPTIONS } from "./cors.js";
export type { CorsOptions } from "./cors.js";
export { AUTH_CALLBACK_TIMEOUT_MS } from "./auth.js";
export type { AuthResult, Authenticate, Authorize } from "./auth.js";
export { CONNECTION_RETRY_AFTER_S, POLL_RETRY_AFTER_S } from "./limits.js";
export { MAX_REASONS, foldReason } from "./stats.js";
export type { NegotiationStats, ServerStats } from "./stats.js";
export { DIAGNOSTICS_ROUTE, DOCTOR_ROUTE, MAX_REPORT_ATTEMPTS, MAX_REPORT_BYTES } from "./diagnostics.js";
export type { DoctorPage, DoctorPageSource } from "./diagnostics.js";
export { bunWebSocket } from "./adapters/fetch.js";
export type { FetchHandler, FetchInfo } from "./adapters/fetch.js";
export type { ServerRequest } from "./exchange.js";
export { koaMiddleware } from "./middleware/koa.js";
export type { KoaContextLike } from "./middleware/koa.js";
export { fastifyPlugin } from "./middleware/fastify.js";
export type { FastifyInstanceLike } from "./middleware/fastify.js";
export { honoMiddleware } from "./middleware/hono.js";
export type { HonoContextLike } from "./middleware/hono.js";
export { DEFAULT_HTTP2_OPTIONS, attachHttp2, listenHttp2 } from "./adapters/http2.js";
export type { Http2ListenOptions, Http2ListenResult } from "./adapters/http2.js";
export type {
  Backplane,
  BackplaneGap,
  BackplaneGapReason,
  BackplaneListener,
  BackplaneMessage,
  BackplanePosition,
  HistoryRead,
  SessionStore,
  CounterSlot,
  SharedCounters,
  SharedSession,
  TicketStore,
} from "./backplane.js";
