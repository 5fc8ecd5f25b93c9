/**
 * Buffering behaviours of responses: the whole response (buffer-all), fixed-size body blocks
 * (buffer-bytes) and the first SSE event held until the second (hold-first-event).
 */
import type { Emit, ResponseEvent } from "./events.js";
import { headerValue } from "./events.js";

/** Holds head, body and end until the upstream ends, then sends it all at once. */
export function bufferAllStage(next: Emit<ResponseEvent>): Emit<ResponseEvent> {
  const held: ResponseEvent[] = [];
  return (event) => {
    if (event.type !== "end") {
      held.push(event);
      return;
    }
    const head = held.find((e) => e.type === "head");
    const body = Buffer.concat(held.flatMap((e) => (e.type === "data" ? [e.chunk] : [])));
    held.length = 0;
    if (head) next(head);
    if (body.length > 0) next({ type: "data", chunk: body });
    next(event);
  };
}

/** Passes the head; sends the body only in blocks of at least `bytes`; the remainder on end. */
export function bufferBytesStage(bytes: number, next: Emit<ResponseEvent>): Emit<ResponseEvent> {
  let held: Buffer[] = [];
  let size = 0;
  return (event) => {
    if (event.type === "head") return next(event);
    if (event.type === "data") {
      held.push(event.chunk);
      size += event.chunk.length;
      if (size < bytes) return;
    }
    if (size > 0) {
      const chunk = Buffer.concat(held);
      held = [];
      size = 0;
      next({ type: "data", chunk });
    }
    if (event.type === "end") next(event);
  };
}

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

/**
 * Scans SSE bytes for block boundaries (CR, LF and CRLF line ends, split anywhere). Reports
 * where the first field line of the stream starts and where each event block ends.
 */
class SseBlockScanner {
  private atLineStart = true;
  private afterCR = false;
  private blockHasField = false;
  private seenField = false;

  /** Returns offsets in `chunk`: `firstField` (once per stream) and the ends of event blocks. */
  scan(chunk: Buffer): { firstField?: number; eventEnds: number[] } {
    const eventEnds: number[] = [];
    let firstField: number | undefined;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF && this.afterCR) {
        // Second half of a CRLF: the line already ended at the CR.
        this.afterCR = false;
        if (eventEnds.at(-1) === i) eventEnds[eventEnds.length - 1] = i + 1;
        continue;
      }
      this.afterCR = b === CR;
      if (b === CR || b === LF) {
        if (this.atLineStart) {
          if (this.blockHasField) eventEnds.push(i + 1);
          this.blockHasField = false;
        }
        this.atLineStart = true;
        continue;
      }
      if (this.atLineStart && b !== COLON) {
        this.blockHasField = true;
        if (!this.seenField) {
          this.seenField = true;
          firstField = i;
        }
      }
      this.atLineStart = false;
    }
    return firstField === undefined ? { eventEnds } : { firstField, eventEnds };
  }
}

/**
 * For `text/event-stream` responses: comment and padding blocks pass; from the first field line
 * on, bytes are held until the second event block is complete, then everything flows.
 */
export function holdFirstEventStage(next: Emit<ResponseEvent>): Emit<ResponseEvent> {
  let mode: "unknown" | "pass" | "before" | "holding" = "unknown";
  const scanner = new SseBlockScanner();
  let held: Buffer[] = [];
  let events = 0;
  return (event) => {
    if (event.type === "head") {
      const type = headerValue(event.head.headers, "content-type") ?? "";
      mode = /^\s*text\/event-stream/i.test(type) ? "before" : "pass";
      return next(event);
    }
    if (event.type === "end" || mode === "pass" || mode === "unknown") {
      if (held.length > 0) next({ type: "data", chunk: Buffer.concat(held) });
      held = [];
      return next(event);
    }
    const chunk = event.chunk;
    const { firstField, eventEnds } = scanner.scan(chunk);
    let start = 0;
    if (mode === "before") {
      if (firstField === undefined) return next(event);
      if (firstField > 0) next({ type: "data", chunk: chunk.subarray(0, firstField) });
      start = firstField;
      mode = "holding";
    }
    for (const end of eventEnds) {
      if (end <= start) continue;
      if (++events === 2) {
        held.push(chunk.subarray(start, end));
        next({ type: "data", chunk: Buffer.concat(held) });
        held = [];
        mode = "pass";
        if (end < chunk.length) next({ type: "data", chunk: chunk.subarray(end) });
        return;
      }
    }
    held.push(chunk.subarray(start));
  };
}
