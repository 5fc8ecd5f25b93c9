/** Hand-written server answers, for behaviours the fake server would never show on its own. */
import type { ServerResponse } from "node:http";
import { MARKER_HEADER, MARKER_VALUE, encodeSseControl, encodeSseMessage, encodeSsePadding, type HelloFrame, type ServerFrame } from "@throughline/wire";

export function hello(overrides: Partial<HelloFrame> = {}): HelloFrame {
  return { type: "hello", session: "scripted", transport: "sse", heartbeatMs: 60_000, time: Date.now(), cursor: "ep1-0", retryMs: 20, ...overrides };
}

/** Writes an SSE answer with these frames and leaves the stream open. */
export function writeSse(res: ServerResponse, frames: readonly ServerFrame[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", [MARKER_HEADER]: MARKER_VALUE });
  res.write(encodeSsePadding());
  for (const f of frames) {
    if (f.type === "message") res.write(encodeSseMessage(f.id, f.topic, f.event, JSON.stringify(f.data)));
    else if (f.type !== "heartbeat") res.write(encodeSseControl(f));
  }
}

/** A JSON error answer; `marked` adds the header that says it is the Throughline server's own. */
export function writeError(res: ServerResponse, status: number, code: string, marked: boolean): void {
  res.writeHead(status, { "content-type": "application/json", ...(marked ? { [MARKER_HEADER]: MARKER_VALUE } : {}) });
  res.end(JSON.stringify({ error: { code, message: `Throughline: scripted ${code}` } }));
}

export function msg(id: string, data: unknown, topic = "t"): ServerFrame {
  return { type: "message", id, topic, event: "message", data };
}
