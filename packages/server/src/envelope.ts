/**
 * A published message with its encodings computed at most once per publish, not once per
 * subscriber: fan-out to thousands of connections then costs one string (or Buffer) write each.
 * The data itself is kept only as JSON text, so later mutation of the published object by the
 * application cannot change what the history replays.
 */
import { ThroughlineError, encodeSseMessage, formatId } from "@throughline/wire";

export class Envelope {
  readonly id: string;
  #sseBuffer: Buffer | undefined;
  #json: string | undefined;
  #wsFrame: Buffer | undefined;
  #jsonBuffer: Buffer | undefined;

  constructor(
    epoch: string,
    readonly seq: number,
    readonly topic: string,
    readonly event: string,
    /** `JSON.stringify(data)`; `undefined` when the data was `undefined` (the frame then has no `data`). */
    readonly dataJson: string | undefined,
    /** Clock time of the publish, for history age eviction. */
    readonly time: number,
  ) {
    this.id = formatId(epoch, seq);
  }

  /** The SSE event block as UTF-8 bytes (only bytes are kept: the history holds this), so each socket write skips the string encoding. */
  get sseBuffer(): Buffer {
    return (this.#sseBuffer ??= Buffer.from(encodeSseMessage(this.id, this.topic, this.event, this.dataJson)));
  }

  /** The JSON `message` frame, built around the cached data JSON (same text as `encodeFrame`). */
  get json(): string {
    if (this.#json === undefined) {
      const head = `{"type":"message","id":${JSON.stringify(this.id)},"topic":${JSON.stringify(this.topic)},"event":${JSON.stringify(this.event)}`;
      this.#json = this.dataJson === undefined ? `${head}}` : `${head},"data":${this.dataJson}}`;
    }
    return this.#json;
  }

  /** The JSON frame as UTF-8 bytes, so `ws` does not re-encode the string per socket (a view into `wsFrame`). */
  get jsonBuffer(): Buffer {
    return (this.#jsonBuffer ??= this.wsFrame.subarray(this.#wsHeaderBytes));
  }

  #wsHeaderBytes = 0;

  /**
   * The complete WebSocket text frame (RFC 6455 §5.2: FIN + text opcode, unmasked as every
   * server frame is, then the JSON), built once and written as is to every socket that can take
   * raw frames (see batch.ts and `PeerSocket.sendFrames`).
   */
  get wsFrame(): Buffer {
    if (this.#wsFrame === undefined) {
      const json = this.json;
      const n = Buffer.byteLength(json);
      const head = wsTextFrameHeader(n);
      const frame = Buffer.allocUnsafe(head.length + n);
      head.copy(frame);
      frame.write(json, head.length, "utf8");
      this.#wsHeaderBytes = head.length;
      this.#wsFrame = frame;
    }
    return this.#wsFrame;
  }
}

/** The header of an unmasked, final WebSocket text frame carrying `n` payload bytes (RFC 6455 §5.2). */
export function wsTextFrameHeader(n: number): Buffer {
  if (n < 126) return Buffer.from([0x81, n]);
  if (n < 65_536) return Buffer.from([0x81, 126, n >>> 8, n & 0xff]);
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 127;
  head.writeBigUInt64BE(BigInt(n), 2);
  return head;
}

/**
 * Serializes published data once.
 * @throws ThroughlineError TL_BAD_DATA when `JSON.stringify` throws (cycles, BigInt) or yields nothing (functions, symbols).
 */
export function serializeData(data: unknown): string | undefined {
  if (data === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new ThroughlineError("TL_BAD_DATA", `published data cannot be serialized as JSON (${cause instanceof Error ? cause.message : String(cause)}).`, { cause });
  }
  if (json === undefined) throw new ThroughlineError("TL_BAD_DATA", `published data of type ${typeof data} cannot be serialized as JSON.`);
  return json;
}
