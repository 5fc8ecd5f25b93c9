/**
 * One heartbeat tick, encoded at most once per transport however many connections it goes to
 * (like `Envelope` for messages): the ticker hands the same object to every streaming connection.
 */
import { encodeFrame, encodeSseHeartbeat } from "@throughline/wire";

export class Heartbeat {
  #sse: Buffer | undefined;
  #ws: Buffer | undefined;

  constructor(readonly time: number) {}

  /** The SSE comment `:hb <time>`. */
  get sse(): Buffer {
    return (this.#sse ??= Buffer.from(encodeSseHeartbeat(this.time)));
  }

  /** The WebSocket text frame `{"type":"heartbeat","time":…}`. */
  get ws(): Buffer {
    return (this.#ws ??= Buffer.from(encodeFrame({ type: "heartbeat", time: this.time })));
  }
}
