/**
 * Server entry: the server service, topics and errors.
 * @since 0.1.0
 */
export * as Errors from "./Errors.js";
export * as Topic from "./Topic.js";
export * as ThroughlineServer from "./ThroughlineServer.js";
export * as ThroughlineHttp from "./ThroughlineHttp.js";
