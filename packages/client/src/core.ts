/**
 * The lean entry, `@throughline/client/core`: `connect()` takes its transports as values, so a
 * bundle ships only those it lists (each value carries its link, its proof rule and its liveness
 * rule). `connect(url, { transports: [sse, longPoll] })`: SSE first, long-poll as the fallback,
 * no WebSocket code. The default entry's `connect` is this one with all three and names allowed.
 */
import type { Channel } from "./api.js";
import { createChannel } from "./channel.js";
import { resolveOptions, type CoreConnectOptions } from "./options.js";

export { CLOSED, CONNECTING, OPEN } from "./api.js";
export type { Channel, CloseEventInfo, ReadyState } from "./api.js";
export type { ConnectOptions, CoreConnectOptions } from "./options.js";
export type { Transport } from "./transport.js";
export { ThroughlineError } from "@throughline/wire";
export type { GapFrame, Message, TransportName } from "@throughline/wire";
export { longPoll } from "./transports/long-poll.js";
export { sse } from "./transports/sse.js";
export { websocket } from "./transports/websocket.js";

/**
 * Opens a channel over the transports listed, tried in that order (see the default entry's
 * `connect` for everything else).
 * @throws ThroughlineError TL_INVALID_OPTION (e.g. no transport value listed, or only `websocket` where there is none), TL_BAD_TOPIC
 */
export function connect(url: string, options: CoreConnectOptions): Channel {
  return createChannel(resolveOptions(url, options));
}
