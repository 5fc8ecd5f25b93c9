/**
 * Server-Sent Events transport: one long-lived `text/event-stream` response per connection.
 * The stream opens with padding + hello (+ `retry:`) + gaps + replay in a single write, so a
 * buffering intermediary flushes it as one chunk and the client sees its hello at once.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CloseCode,
  LAST_EVENT_ID_HEADER,
  QUERY,
  encodeSseControl,
  encodeSsePadding,
  parseTopics,
  type CloseFrame,
  type HelloFrame,
  type ProbeFrame,
} from "@throughline/wire";
import { safetyTimer } from "../clock.js";
import type { Connection } from "../connection.js";
import type { Envelope } from "../envelope.js";
import type { Heartbeat } from "../heartbeat.js";
import { BASE_HEADERS } from "../http.js";
import type { Registry } from "../registry.js";
import type { SessionImpl } from "../session.js";
import { Backlog } from "../backlog.js";

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...BASE_HEADERS,
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
});

/** How long a closed stream may take to flush its close frame before its socket is destroyed. */
export const CLOSE_LINGER_MS = 5_000;

export class SseConnection implements Connection {
  readonly transport = "sse" as const;
  closed = false;
  /** Unsent writes (`maxBufferedMessages`, see backlog.ts). */
  readonly backlog: Backlog;
  /** The pending proof probe (see `probeDelayMs`). */
  probeTimer: unknown;

  constructor(
    private readonly registry: Registry,
    readonly session: SessionImpl,
    readonly topics: readonly string[],
    private readonly res: ServerResponse,
  ) {
    this.backlog = new Backlog(registry.options.maxBufferedMessages, () => this.close(CloseCode.TOO_SLOW, "the client read too slowly"));
  }

  deliver(envelope: Envelope): void {
    this.write(envelope.sseBuffer);
  }

  heartbeat(beat: Heartbeat): void {
    this.write(beat.sse);
  }

  write(chunk: string | Buffer): void {
    if (this.closed) return;
    // Only a write queued behind unsent bytes is counted (see Backlog and WebSocket's send).
    if (this.res.writableLength === 0) this.res.write(chunk);
    else {
      this.res.write(chunk, this.backlog.done);
      this.backlog.wrote();
    }
    // The socket's unsent bytes (and writes: each costs memory beyond its bytes) grow without
    // bound for a reader that stalls: cut it loose and let it resume from history instead.
    if (this.backlog.tooManyBytes(this.res.writableLength, this.registry.options.maxBufferedBytes)) this.close(CloseCode.TOO_SLOW, "the client read too slowly");
  }

  /** Writes the proof probe: a separate delivery, `probeDelayMs` after the opening write. */
  probe(seq: number): void {
    this.probeTimer = undefined;
    const frame: ProbeFrame = { type: "probe", seq, time: this.registry.options.clock.now() };
    this.write(encodeSseControl(frame));
  }

  #stopProbe(): void {
    if (this.probeTimer !== undefined) this.registry.clearTimer(this.probeTimer);
    this.probeTimer = undefined;
  }

  close(code: number, reason: string): void {
    if (!this.gone()) return;
    const frame: CloseFrame = { type: "close", code, reason };
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    res.end(encodeSseControl(frame));
    if (!res.writableFinished) {
      const timer = safetyTimer(() => res.destroy(), CLOSE_LINGER_MS);
      res.once("close", () => clearTimeout(timer));
    }
  }

  /** The client went away (or the socket died); `close` ends through here too. `false` if already closed. */
  gone(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.#stopProbe();
    this.backlog.dispose();
    this.registry.removeConnection(this);
    return true;
  }
}

/** First non-empty value: SSE resume cursor precedence is `Last-Event-ID`, `cursor`, `lastEventId`. */
function sseCursor(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers[LAST_EVENT_ID_HEADER];
  const candidates = [typeof header === "string" ? header : undefined, query.get(QUERY.cursor), query.get(QUERY.lastEventId)];
  return candidates.find((c): c is string => typeof c === "string" && c !== "");
}

/**
 * Opens an SSE stream. Throws (before any byte is written) for a bad topic (400) or an
 * unknown session (404); the router turns that into the JSON error answer.
 */
export function openSse(registry: Registry, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const { options, hub } = registry;
  const topics = parseTopics(query.get(QUERY.topics));
  const cursor = sseCursor(req, query);
  const session = registry.resolveSession(query.get(QUERY.session), topics, query.get(QUERY.propose) === "1");

  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  const socket = res.socket ?? req.socket;
  socket?.setNoDelay(true);
  socket?.setTimeout(0);

  const conn = new SseConnection(registry, session, topics, res);
  const plan = hub.plan(topics, cursor ?? session.startCursor);
  const hello: HelloFrame = {
    type: "hello",
    session: session.id,
    transport: "sse",
    heartbeatMs: options.heartbeatMs,
    time: options.clock.now(),
    cursor: plan.cursor,
    retryMs: options.retryMs,
  };
  let out = options.paddingBytes > 0 ? encodeSsePadding(options.paddingBytes) : "";
  out += encodeSseControl(hello, options.retryMs);
  for (const gap of plan.gaps) out += encodeSseControl(gap);
  // The replay's cached bytes, joined once: no string copy of the history per resume.
  const opening = plan.replay.length === 0 ? Buffer.from(out) : Buffer.concat([Buffer.from(out), ...plan.replay.map((e) => e.sseBuffer)]);
  // Plan and subscribe in one synchronous step: nothing published in between can be missed.
  registry.addConnection(conn, true);
  res.on("close", () => conn.gone());
  res.on("error", () => conn.gone());
  conn.backlog.beginOpening(opening.length);
  conn.write(opening);
  conn.backlog.endOpening();
  // The negotiator's proof: a second delivery a moment later. A proxy that holds the stream
  // (whole response, N bytes, first event until the second) delivers it late or merged.
  if (options.probeDelayMs > 0 && !conn.closed) conn.probeTimer = registry.setTimer(() => conn.probe(1), options.probeDelayMs);
}
