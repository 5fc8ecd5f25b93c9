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

  /** The JSON frame as UTF-8 bytes, so `ws` does not re-encode the string per socket. */
  get jsonBuffer(): Buffer {
    return (this.#jsonBuffer ??= Buffer.from(this.json));
  }
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
