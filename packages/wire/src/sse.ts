/**
 * Server-Sent Events codec (WHATWG HTML §9.2 "Server-sent events").
 *
 * Encoding: messages are `id:` + `event:` (omitted for the default `message`) + one `data:` line
 * holding `{"topic","data"}` as JSON (JSON never contains a raw newline, so one line suffices).
 * Control frames are events named `tl:<type>` whose data is the frame as JSON. Heartbeats are
 * comments (`:hb <time>`), invisible to a plain EventSource. A ≥2 KB padding comment opens each
 * stream so intermediaries that buffer up to a threshold flush the first real event.
 *
 * Decoding is `createSseParser`, WHATWG HTML §9.2.6 exactly (see there for why it is our own).
 */
import { DEV } from "./dev.js";
import { CONTROL_EVENT_PREFIX, type ControlFrame, type HeartbeatFrame, type ServerFrame } from "./frames.js";
import { ThroughlineError } from "./errors.js";
import { asServerFrame, badFrame, isObj, isStr, parseJson } from "./json.js";

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
  /** Feeds decoded text. A U+FEFF at the very start of the stream is stripped (once). */
  feed(chunk: string): void;
  /** Feeds raw bytes, decoded as UTF-8 whatever the charset says (§9.2.6); split sequences are reassembled. */
  feedBytes(chunk: Uint8Array): void;
  /**
   * Starts a new stream (e.g. before reconnecting): an unfinished line and block are discarded and
   * a BOM is stripped again. The last event ID is kept: it persists across reconnects.
   */
  reset(): void;
}

export interface SseParserCallbacks {
  onEvent(event: SseEvent): void;
  onComment?(comment: string): void;
  onRetry?(ms: number): void;
  /**
   * The last event ID as a block set it, called when a block with a valid `id` field ends, before
   * its event (if any) is dispatched. Blocks without data still call it: an `id`-only block sets
   * the last event ID without dispatching (§9.2.6 "dispatch the event", steps 1–2).
   */
  onLastEventId?(id: string): void;
}

/**
 * Runs a callback so that a throwing one cannot stop the parser mid-chunk (which would drop the
 * rest of the chunk's events): the exception is rethrown on a microtask, where it surfaces as an
 * uncaught error instead of as silent data loss. No callback: a no-op.
 */
function guarded<A extends unknown[]>(fn: ((...args: A) => void) | undefined): (...args: A) => void {
  return (...args) => {
    try {
      if (fn) fn(...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  };
}

const DIGITS = /^\d+$/;

/**
 * The parser's core: WHATWG HTML §9.2.6 "Interpreting an event stream"
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * as a closure with `feed` / `reset`. At each blank line it calls `block` with the block's valid
 * `id` field (if any), its event type (`""`: the default) and its data (`null`: no data field);
 * comments go to `comment`, and fields other than data, event and id to `field` (the `retry`
 * field's reader, retryField). The callers guard what they pass.
 *
 * Line ends are CR, LF or CRLF, split anywhere across chunks: a CR ends its line at once (so a CR
 * at the very end of the stream still ends the line) and an LF right after it is skipped, even in
 * the next chunk.
 */
function sseCore(
  block: (id: string | undefined, event: string, data: string | null) => void,
  comment: (comment: string) => void,
  field?: (name: string, value: string) => void,
): SseParser {
  let decoder: TextDecoder;
  let first: boolean; // nothing of this stream seen yet: a leading U+FEFF is a BOM
  let skipLf: boolean; // the previous chunk ended in CR: an LF starting this one belongs to it
  let partial: string; // the unfinished line
  // The block being read (§9.2.6 buffers). `data` is null while the block has no data field.
  let data: string | null;
  let event: string;
  let id: string | undefined; // this block's valid id field, if any
  const endBlock = () => {
    data = null;
    event = "";
    id = undefined;
  };
  const reset = () => {
    // The decoder keeps U+FEFF (ignoreBOM) so that exactly one, at stream start, is stripped in `feed`.
    decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    first = true;
    skipLf = false;
    partial = "";
    endBlock();
  };
  reset();

  const line = (l: string) => {
    if (l === "") {
      // Dispatch (§9.2.6 "dispatch the event"), with or without data.
      block(id, event, data);
      return endBlock();
    }
    const colon = l.indexOf(":");
    if (colon === 0) return comment(l.slice(l.charCodeAt(1) === 0x20 ? 2 : 1));
    const name = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? "" : l.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (name === "data") data = data === null ? value : `${data}\n${value}`;
    else if (name === "event") event = value;
    else if (name === "id") {
      if (!value.includes("\u0000")) id = value;
    } else if (field) field(name, value);
  };

  const feed = (chunk: string) => {
    if (first && chunk) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let i = 0;
    if (skipLf && chunk) {
      skipLf = false;
      if (chunk.charCodeAt(0) === 0x0a) i = 1;
    }
    const ends = /\r\n?|\n/g;
    ends.lastIndex = i;
    for (let m; (m = ends.exec(chunk)); i = ends.lastIndex) {
      const l = partial + chunk.slice(i, m.index);
      partial = "";
      // A CR ending the chunk: an LF starting the next one is part of this line end.
      if (ends.lastIndex === chunk.length && m[0] === "\r") skipLf = true;
      line(l);
    }
    partial += chunk.slice(i);
  };

  return {
    feed,
    feedBytes: (chunk) => feed(decoder.decode(chunk, { stream: true })),
    reset,
  };
}

/** The `retry` field (digits only, §9.2.6) for `onRetry`; any other field is ignored. */
function retryField(onRetry: ((ms: number) => void) | undefined): (name: string, value: string) => void {
  const retry = guarded(onRetry);
  return (name, value) => {
    if (name === "retry" && DIGITS.test(value)) retry(Number(value));
  };
}

/**
 * An incremental parser of `text/event-stream`, exactly WHATWG HTML §9.2.6 (see sseCore). Why our
 * own and not `eventsource-parser`: its 3.x line (the one that runs on Node 20) never reports an
 * `id`-only block, so a client could not keep the last event ID a server set without an event —
 * and the remaining rules are a page of code.
 */
export function createSseParser(cb: SseParserCallbacks): SseParser {
  const onEvent = guarded(cb.onEvent);
  const onLastEventId = guarded(cb.onLastEventId);
  return sseCore(
    (id, event, data) => {
      // The last event ID is set even without data.
      if (id !== undefined) onLastEventId(id);
      if (data !== null) onEvent(id === undefined ? { event: event || undefined, data } : { id, event: event || undefined, data });
    },
    guarded(cb.onComment),
    retryField(cb.onRetry),
  );
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
  return blockToFrame(e.id, e.event || "", e.data);
}

/** sseEventToFrame for a block as the parser core reports it (event `""`: the default). */
function blockToFrame(id: string | undefined, type: string, data: string): ServerFrame {
  const event = type || "message";
  const control = event.startsWith(CONTROL_EVENT_PREFIX);
  const payload = parseJson(data, (cause) => badFrame(DEV ? `${control ? `control event "${event}"` : "an SSE event"} with data that is not JSON` : control ? event : "", cause));
  if (control) {
    const frame = asServerFrame(payload);
    if (!frame || `${CONTROL_EVENT_PREFIX}${frame.type}` !== event) {
      throw badFrame(DEV ? `control event "${event}"` : event);
    }
    return frame;
  }
  if (id === undefined || !isObj(payload) || !isStr(payload.topic)) {
    throw badFrame(DEV ? "an SSE event without an id or a topic" : "");
  }
  return { type: "message", id, topic: payload.topic, event, data: payload.data };
}

/**
 * Throughline frames from `text/event-stream`, as the client reads a stream: heartbeat comments
 * become heartbeat frames, a block that is not a frame goes to `onError` (parsing goes on). Only
 * if wanted: the other comments go to `onComment`, and fields other than data, event and id to
 * `field` (createSseFrameDecoder reads `retry` with it; the client's retry delay is the hello's
 * `retryMs`, so a bundle with only this reader has no retry reader).
 */
export function createSseFrameReader(onFrame: (f: ServerFrame) => void, onError: (e: ThroughlineError) => void, onComment?: (comment: string) => void, field?: (name: string, value: string) => void): SseParser {
  return sseCore(
    guarded((id: string | undefined, event: string, data: string | null) => {
      if (data === null) return; // an id-only block: no event
      let frame: ServerFrame;
      try {
        frame = blockToFrame(id, event, data);
      } catch (err) {
        return onError(err as ThroughlineError);
      }
      onFrame(frame);
    }),
    guarded((comment: string) => {
      const hb = HEARTBEAT_RE.exec(comment);
      if (hb) onFrame({ type: "heartbeat", time: Number(hb[1]) });
      else if (onComment) onComment(comment);
    }),
    field,
  );
}

/** An SSE parser that yields Throughline frames (and, if wanted, the other comments and `retry`). */
export function createSseFrameDecoder(cb: SseFrameDecoderCallbacks): SseParser {
  return createSseFrameReader(cb.onFrame, cb.onError, cb.onComment, retryField(cb.onRetry));
}
