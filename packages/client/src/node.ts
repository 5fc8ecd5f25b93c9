/**
 * The Node entry: everything of the browser entry, with `connect` defaulting `WebSocket` to the
 * `ws` package (Node 20 has no global WebSocket).
 */
import WebSocket from "ws";
import { connect as connectBrowser } from "./connect.js";
import type { Channel } from "./api.js";
import type { ConnectOptions, WebSocketConstructor } from "./options.js";

export * from "./index.js";

/** `connect` of the browser entry, with `WebSocket` defaulting to `ws`. */
export function connect(url: string, options: ConnectOptions = {}): Channel {
  return connectBrowser(url, { ...options, WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor) });
}
