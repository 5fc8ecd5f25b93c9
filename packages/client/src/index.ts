export { connect } from "./connect.js";
export { CLOSED, CONNECTING, OPEN } from "./api.js";
export type { Channel, CloseEventInfo, ReadyState } from "./api.js";
export { DEFAULT_CONNECT_OPTIONS, DEFAULT_RECONNECT_OPTIONS, SYSTEM_CLOCK } from "./options.js";
export type { Clock, ConnectOptions, ReconnectOptions, WebSocketConstructor, WebSocketLike } from "./options.js";
export { backoffDelay } from "./backoff.js";
export { ThroughlineError } from "@throughline/wire";
export type { GapFrame, Message, TransportName } from "@throughline/wire";
