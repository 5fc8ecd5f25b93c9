/**
 * One heartbeat tick, encoded at most once per transport however many connections it goes to
 * (like `Envelope` for messages): the ticker hands the same object to every streaming connection.
 */
import { encodeFrame, encodeSseHeartbeat } from "@throughline/wire";
import { wsTextFrameHeader } from "./envelope.js";

/** An unmasked WebSocket ping with no payload (RFC 6455 §5.5.2): what `ws.ping()` sends for a server. */
const WS_PING = Buffer.from([0x89, 0x00]);

export class Heartbeat {
  #sse: Buffer | undefined;
  #ws: Buffer | undefined;
  #wsFrame: Buffer | undefined;
  #wsFramesWithPing: Buffer | undefined;

  constructor(readonly time: number) {}

  /** The SSE comment `:hb <time>`. */
  get sse(): Buffer {
    return (this.#sse ??= Buffer.from(encodeSseHeartbeat(this.time)));
  }

  /** The WebSocket text frame `{"type":"heartbeat","time":…}`. */
  get ws(): Buffer {
    return (this.#ws ??= Buffer.from(encodeFrame({ type: "heartbeat", time: this.time })));
  }

  /** The heartbeat as a complete WebSocket text frame (`PeerSocket.sendFrames`), built once per tick. */
  get wsFrame(): Buffer {
    return (this.#wsFrame ??= Buffer.concat([wsTextFrameHeader(this.ws.length), this.ws]));
  }

  /**
   * The heartbeat text frame and a ping as complete WebSocket frames, for ONE socket write per
   * connection and tick instead of two: a tick reaches every streaming connection, so at
   * thousands of connections its writes add up.
   */
  get wsFramesWithPing(): Buffer {
    return (this.#wsFramesWithPing ??= Buffer.concat([this.wsFrame, WS_PING]));
  }
}
