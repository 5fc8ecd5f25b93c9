/** The three transports by name: what the default entry's `connect` (and `share`) bundles. */
import type { Transport } from "../transport.js";
import { longPoll } from "./long-poll.js";
import { sse } from "./sse.js";
import { websocket } from "./websocket.js";

export const BUILT_IN: Readonly<Record<string, Transport>> = Object.freeze({ sse, websocket, "long-poll": longPoll });
