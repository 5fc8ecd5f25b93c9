export { createServer, CLOSE_GRACE_MS } from "./server.js";
export type { ListenResult, ThroughlineServer } from "./server.js";
export { DEFAULT_HISTORY_OPTIONS, DEFAULT_SERVER_OPTIONS } from "./options.js";
export type { HistoryOptions, ServerOptions } from "./options.js";
export type { Clock } from "./clock.js";
export type { Session } from "./session.js";
export type { PublishOptions } from "./hub.js";
export { History } from "./history.js";
export type { HistoryConfig, HistoryEntry, SinceResult } from "./history.js";
