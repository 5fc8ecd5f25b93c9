import { DEV, ThroughlineError } from "@throughline/wire";
import type { Channel } from "./api.js";
import { createChannel } from "./channel.js";
import { resolveOptions, type ConnectOptions } from "./options.js";
import { longPollTransport } from "./transports/long-poll.js";
import { sseTransport } from "./transports/sse.js";
import { webSocketTransport } from "./transports/websocket.js";

const FACTORIES = Object.freeze({ sse: sseTransport, websocket: webSocketTransport, "long-poll": longPollTransport });

/**
 * Opens a channel to a Throughline server. `url` is the absolute http(s) URL of the server's
 * path, e.g. `"https://example.com/realtime"`. Connecting starts right after the current task's
 * synchronous code, so listeners attached at once miss nothing.
 * @throws ThroughlineError TL_INVALID_OPTION, TL_BAD_TOPIC for bad options
 */
export function connect(url: string, options?: ConnectOptions): Channel {
  const o = resolveOptions(url, options);
  // Nothing listed can run here (Node 20 has no global WebSocket): a configuration error, not a
  // reason to retry forever (issue #11). In a longer list the WebSocket attempt fails at once
  // (TL_NO_WEBSOCKET) and the next transport is tried.
  if (o.WebSocket === undefined && o.transports.every((t) => t === "websocket")) {
    throw new ThroughlineError("TL_INVALID_OPTION", DEV ? `no WebSocket here for transports: ["websocket"]: pass the WebSocket option or use @throughline/client/node.` : "WebSocket");
  }
  return createChannel(o, FACTORIES);
}
