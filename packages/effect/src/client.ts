/**
 * Browser-safe entry: the Effect client, topics and errors (no server, no Node modules).
 * @since 0.1.0
 */
export * as Errors from "./Errors.js";
export * as Topic from "./Topic.js";
export * as ThroughlineClient from "./ThroughlineClient.js";
