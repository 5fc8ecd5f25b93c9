/**
 * JSON codec: one frame per WebSocket text message; a long-poll answer is a JSON array of frames.
 * Decoders validate shape, because bytes from the network (or from a proxy's error page) are
 * hostile until proven otherwise: bad input becomes a ThroughlineError with a stable code.
 */
import { TRANSPORTS, type ClientFrame, type ServerFrame, type TransportName } from "./frames.js";
import { DEV } from "./dev.js";
import { ThroughlineError, httpError } from "./errors.js";

/** Encodes any frame as one JSON text. */
export function encodeFrame(frame: ServerFrame | ClientFrame): string {
  return JSON.stringify(frame);
}

/** A long-poll batch from frames already encoded with `encodeFrame` (no re-serialization). */
export function encodePollBatch(encodedFrames: readonly string[]): string {
  return `[${encodedFrames.join(",")}]`;
}

type Obj = Record<string, unknown>;
/** A plain JSON object (not null, not an array); also the SSE decoder's (sse.ts). */
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
export const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const GAP_REASONS: readonly unknown[] = ["evicted", "epoch", "invalid-cursor"];

/** Checks a parsed value is a server frame; returns it typed or `undefined`. */
export function asServerFrame(v: unknown): ServerFrame | undefined {
  if (!isObj(v)) return undefined;
  switch (v.type) {
    case "message":
      return isStr(v.id) && isStr(v.topic) && isStr(v.event) ? (v as unknown as ServerFrame) : undefined;
    case "hello":
      return isStr(v.session) && TRANSPORTS.includes(v.transport as TransportName) && isNum(v.heartbeatMs) && isNum(v.time) &&
        isStr(v.cursor) && isNum(v.retryMs) && (v.holdMs === undefined || isNum(v.holdMs))
        ? (v as unknown as ServerFrame)
        : undefined;
    case "heartbeat":
      return isNum(v.time) ? (v as unknown as ServerFrame) : undefined;
    case "probe":
      return isNum(v.seq) && isNum(v.time) ? (v as unknown as ServerFrame) : undefined;
    case "gap":
      return isStr(v.topic) && GAP_REASONS.includes(v.reason) && isStr(v.cursor) ? (v as unknown as ServerFrame) : undefined;
    case "close":
      return isNum(v.code) && isStr(v.reason) ? (v as unknown as ServerFrame) : undefined;
    default:
      return undefined;
  }
}

/** JSON.parse, throwing `onBad(cause)` instead of a SyntaxError (also the SSE decoder's, sse.ts). */
export function parseJson(text: string, onBad: (cause: unknown) => ThroughlineError): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw onBad(cause);
  }
}

/** TL_BAD_FRAME for `what` (production: its key value only); also the SSE decoder's (sse.ts). */
export const badFrame = (what: string, cause?: unknown): ThroughlineError =>
  new ThroughlineError("TL_BAD_FRAME", DEV ? `${what} is not a Throughline frame (a proxy's answer?).` : what, { cause });

/** @throws ThroughlineError TL_BAD_FRAME */
export function decodeServerFrame(text: string): ServerFrame {
  const frame = asServerFrame(parseJson(text, (c) => badFrame("the data", c)));
  if (!frame) throw badFrame("the data");
  return frame;
}

/** Decodes a long-poll answer. @throws ThroughlineError TL_BAD_FRAME */
export function decodePollBatch(text: string): ServerFrame[] {
  const what = DEV ? "the long-poll answer" : "poll";
  const value = parseJson(text, (c) => badFrame(what, c));
  if (!Array.isArray(value)) throw badFrame(what);
  return value.map((v) => {
    const frame = asServerFrame(v);
    if (!frame) throw badFrame(DEV ? "an element of the long-poll answer" : "poll[]");
    return frame;
  });
}

function asClientFrame(v: unknown): ClientFrame | undefined {
  if (!isObj(v)) return undefined;
  switch (v.type) {
    case "message":
      return "data" in v ? (v as unknown as ClientFrame) : undefined;
    case "heartbeat":
      return isNum(v.time) ? (v as unknown as ClientFrame) : undefined;
    case "probe":
      return isNum(v.seq) ? (v as unknown as ClientFrame) : undefined;
    case "close":
      return (v.code === undefined || isNum(v.code)) && (v.reason === undefined || isStr(v.reason))
        ? (v as unknown as ClientFrame)
        : undefined;
    default:
      return undefined;
  }
}

/**
 * Decodes a client→server body or WebSocket message: one frame or an array of frames.
 * @throws ThroughlineError TL_BAD_MESSAGE (status 400)
 */
export function decodeClientFrames(text: string): ClientFrame[] {
  const bad = (why: string) => httpError("TL_BAD_MESSAGE", `client message rejected: ${why}. Send {"type":"message","data":…}.`);
  const value = parseJson(text, () => bad("not valid JSON"));
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw bad("empty batch");
  return list.map((v) => {
    const frame = asClientFrame(v);
    if (!frame) throw bad("not a client frame");
    return frame;
  });
}

export function isTransportName(v: unknown): v is TransportName {
  return TRANSPORTS.includes(v as TransportName);
}
