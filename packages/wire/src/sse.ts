/**
 * Server-Sent Events codec (WHATWG HTML §9.2 "Server-sent events").
 *
 * Encoding: messages are `id:` + `event:` (omitted for the default `message`) + one `data:` line
 * holding `{"topic","data"}` as JSON (JSON never contains a raw newline, so one line suffices).
 * Control frames are events named `tl:<type>` whose data is the frame as JSON. Heartbeats are
 * comments (`:hb <time>`), invisible to a plain EventSource. A ≥2 KB padding comment opens each
 * stream so intermediaries that buffer up to a threshold flush the first real event.
 *
 * Decoding uses `eventsource-parser` (3.x: Node ≥18), which already implements the parts of the
 * spec that bite: BOM stripping, CR / LF / CRLF line ends split across chunks, `id` containing
 * NUL ignored, `retry` accepted only as ASCII digits, an unfinished last block never dispatched.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { CONTROL_EVENT_PREFIX, type ControlFrame, type HeartbeatFrame, type MessageFrame, type ServerFrame } from "./frames.js";
import { ThroughlineError } from "./errors.js";
import { asServerFrame } from "./json.js";

/** A raw SSE event, as the WHATWG parser dispatches it. */
export interface SseEvent {
  /** The `id` field of this event, if it had one (`""` resets the last event id). */
  readonly id?: string;
  /** The event type; `undefined` means the default, `message`. */
  readonly event?: string;
  readonly data: string;
}

// eslint-disable-next-line no-control-regex
const FIELD_BAD = /[\r\n\u0000]/;

/**
 * Encodes one SSE event. Multi-line `data` becomes one `data:` line per line (CR, LF and CRLF are
 * all line ends, per the spec, so they all split).
 * @throws ThroughlineError TL_BAD_EVENT if `id` or `event` contain CR, LF or NUL.
 */
export function encodeSseEvent(ev: { id?: string; event?: string; data: string; retry?: number }): string {
  let out = "";
  if (ev.retry !== undefined && Number.isFinite(ev.retry)) out += `retry: ${Math.max(0, Math.floor(ev.retry))}\n`;
  if (ev.id !== undefined) {
    if (FIELD_BAD.test(ev.id)) throw new ThroughlineError("TL_BAD_EVENT", "an SSE id cannot contain CR, LF or NUL.");
    out += `id: ${ev.id}\n`;
  }
  if (ev.event !== undefined && ev.event !== "message") {
    if (FIELD_BAD.test(ev.event)) throw new ThroughlineError("TL_BAD_EVENT", "an SSE event name cannot contain CR, LF or NUL.");
    out += `event: ${ev.event}\n`;
  }
  for (const line of ev.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Encodes a published message. `dataJson` is `JSON.stringify(data)`, computed once per publish. */
export function encodeSseMessage(id: string, topic: string, event: string, dataJson: string | undefined): string {
  const ev = event === "message" ? "" : `event: ${event}\n`;
  const payload = dataJson === undefined ? `{"topic":${JSON.stringify(topic)}}` : `{"topic":${JSON.stringify(topic)},"data":${dataJson}}`;
  return `id: ${id}\n${ev}data: ${payload}\n\n`;
}

/** Encodes a control frame; `retryMs` adds a `retry:` field (used with the hello). */
export function encodeSseControl(frame: Exclude<ControlFrame, HeartbeatFrame>, retryMs?: number): string {
  const retry = retryMs === undefined || !Number.isFinite(retryMs) ? "" : `retry: ${Math.max(0, Math.floor(retryMs))}\n`;
  return `${retry}event: ${CONTROL_EVENT_PREFIX}${frame.type}\ndata: ${JSON.stringify(frame)}\n\n`;
}

/** A comment heartbeat carrying the server clock. */
export function encodeSseHeartbeat(time: number): string {
  return `:hb ${time}\n\n`;
}

/** The opening padding comment: `bytes` spaces (default 2048) so threshold buffers flush. */
export function encodeSsePadding(bytes = 2048): string {
  return `:${" ".repeat(Math.max(0, bytes))}\n\n`;
}

export interface SseParser {
  /** Feeds decoded text. */
  feed(chunk: string): void;
  /** Feeds raw bytes; UTF-8 sequences split across chunks are reassembled. */
  feedBytes(chunk: Uint8Array): void;
  /** Forgets any partial event (e.g. before reconnecting); an unfinished block is discarded. */
  reset(): void;
}

export interface SseParserCallbacks {
  onEvent(event: SseEvent): void;
  onComment?(comment: string): void;
  onRetry?(ms: number): void;
}

/**
 * Runs a callback so that a throwing one cannot stop the parser mid-chunk (which would drop the
 * rest of the chunk's events): the exception is rethrown on a microtask, where it surfaces as an
 * uncaught error instead of as silent data loss.
 */
function guarded<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  };
}

/** An incremental WHATWG SSE parser (feed / reset), over `eventsource-parser`. */
export function createSseParser(cb: SseParserCallbacks): SseParser {
  const onEvent = guarded(cb.onEvent);
  const parser = createParser({
    onEvent: ({ id, event, data }: EventSourceMessage) => onEvent(id === undefined ? { event, data } : { id, event, data }),
    ...(cb.onComment ? { onComment: guarded(cb.onComment) } : {}),
    ...(cb.onRetry ? { onRetry: guarded(cb.onRetry) } : {}),
  });
  let decoder = new TextDecoder("utf-8");
  // eventsource-parser strips a BOM only as the three UTF-8 bytes seen as Latin-1 characters;
  // decoded text carries it as U+FEFF, which WHATWG also says to strip once at stream start.
  let first = true;
  return {
    feed: (chunk) => {
      if (first && chunk.length > 0) {
        first = false;
        if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      }
      parser.feed(chunk);
    },
    feedBytes: (chunk) => {
      const text = decoder.decode(chunk, { stream: true });
      if (text) parser.feed(text);
    },
    reset: () => {
      parser.reset({ consume: false });
      decoder = new TextDecoder("utf-8");
      first = true;
    },
  };
}

export interface SseFrameDecoderCallbacks {
  onFrame(frame: ServerFrame): void;
  /** A block that is not a Throughline frame (TL_BAD_FRAME). Parsing goes on. */
  onError(error: ThroughlineError): void;
  /** Every comment except heartbeats (e.g. the padding), with its length, for arrival timing. */
  onComment?(comment: string): void;
  onRetry?(ms: number): void;
}

const HEARTBEAT_RE = /^hb (\d{1,16})$/;

/** Converts a parsed SSE event into a Throughline frame. @throws ThroughlineError TL_BAD_FRAME */
export function sseEventToFrame(e: SseEvent): ServerFrame {
  const event = e.event ?? "message";
  if (event.startsWith(CONTROL_EVENT_PREFIX)) {
    let frame: ServerFrame | undefined;
    try {
      frame = asServerFrame(JSON.parse(e.data));
    } catch (cause) {
      throw new ThroughlineError("TL_BAD_FRAME", `control event "${event}" has invalid JSON data.`, { cause });
    }
    if (!frame || `${CONTROL_EVENT_PREFIX}${frame.type}` !== event) {
      throw new ThroughlineError("TL_BAD_FRAME", `control event "${event}" is not a valid frame.`);
    }
    return frame;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(e.data);
  } catch (cause) {
    throw new ThroughlineError("TL_BAD_FRAME", "an SSE event's data is not JSON (a proxy's answer?).", { cause });
  }
  if (e.id === undefined || typeof payload !== "object" || payload === null || typeof (payload as { topic?: unknown }).topic !== "string") {
    throw new ThroughlineError("TL_BAD_FRAME", "an SSE event is not a Throughline message (missing id or topic).");
  }
  const p = payload as { topic: string; data?: unknown };
  const frame: MessageFrame = { type: "message", id: e.id, topic: p.topic, event, data: p.data };
  return frame;
}

/** An SSE parser that yields Throughline frames. */
export function createSseFrameDecoder(cb: SseFrameDecoderCallbacks): SseParser {
  return createSseParser({
    onEvent(e) {
      let frame: ServerFrame;
      try {
        frame = sseEventToFrame(e);
      } catch (err) {
        cb.onError(err as ThroughlineError);
        return;
      }
      cb.onFrame(frame);
    },
    onComment(comment) {
      const hb = HEARTBEAT_RE.exec(comment);
      if (hb) cb.onFrame({ type: "heartbeat", time: Number(hb[1]) });
      else if (cb.onComment) cb.onComment(comment);
    },
    ...(cb.onRetry ? { onRetry: cb.onRetry } : {}),
  });
}
