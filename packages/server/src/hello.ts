/** The `hello` every connection opens with, built in one place for every transport. */
import type { HelloFrame, TransportName } from "@throughline/wire";
import type { ResolvedOptions } from "./options.js";

export function helloFrame(options: ResolvedOptions, session: string, transport: TransportName, cursor: string): HelloFrame {
  const hello: HelloFrame = {
    type: "hello",
    session,
    transport,
    heartbeatMs: options.heartbeatMs,
    time: options.clock.now(),
    cursor,
    retryMs: options.retryMs,
  };
  // Long-poll tells the client how long a poll may be held, so it can time out sooner than that.
  return transport === "long-poll" ? { ...hello, holdMs: options.longPollHoldMs } : hello;
}
