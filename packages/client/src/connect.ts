import type { Channel } from "./api.js";
import { createChannel } from "./channel.js";
import { resolveOptions, type ConnectOptions } from "./options.js";
import { BUILT_IN } from "./transports/built-in.js";

/**
 * Opens a channel to a Throughline server. `url` is the absolute http(s) URL of the server's
 * path, e.g. `"https://example.com/realtime"`. Connecting starts right after the current task's
 * synchronous code, so listeners attached at once miss nothing. Transports may be listed by name
 * (all three are bundled) or as values.
 * @throws ThroughlineError TL_INVALID_OPTION, TL_BAD_TOPIC for bad options
 */
export function connect(url: string, options?: ConnectOptions): Channel {
  return createChannel(resolveOptions(url, options, BUILT_IN));
}
