/**
 * Node entry of the Effect client: `ThroughlineClient.connect` with `WebSocket` defaulting to the
 * `ws` package (Node 20 has no global WebSocket), like `@throughline/client/node`.
 * @since 0.1.0
 */
import WebSocket from "ws";
import type * as Effect from "effect/Effect";
import type * as Scope from "effect/Scope";
import type { WebSocketConstructor } from "@throughline/client";
import type { InvalidInputError } from "./Errors.js";
import * as Client from "./ThroughlineClient.js";

export * as Errors from "./Errors.js";
export * as Topic from "./Topic.js";

/** `ThroughlineClient` with `connect` defaulting `WebSocket` to `ws`. @since 0.1.0 */
export const ThroughlineClient = {
  ...Client,
  connect: <R = never>(url: string, options: Client.ConnectOptions<R> = {}): Effect.Effect<Client.Channel, InvalidInputError, Scope.Scope | R> =>
    Client.connect(url, { ...options, WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor) }),
};
