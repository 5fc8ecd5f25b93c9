/**
 * `@throughline/effect` for Node: server and client (the client's `WebSocket` defaulting to `ws`).
 * Browsers import `@throughline/effect/client`.
 * @since 0.1.0
 */
export * as Errors from "./Errors.js";
export * as Topic from "./Topic.js";
export * as ThroughlineServer from "./ThroughlineServer.js";
export * as ThroughlineHttp from "./ThroughlineHttp.js";
export { ThroughlineClient } from "./client-node.js";
