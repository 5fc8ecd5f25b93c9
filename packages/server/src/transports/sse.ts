/**
 * Server-Sent Events transport: one long-lived `text/event-stream` response per connection.
 * The stream opens with padding + hello (+ `retry:`) + gaps + replay in a single write, so a
 * buffering intermediary flushes it as one chunk and the client sees its hello at once.
 */
import { CloseCode, LAST_EVENT_ID_HEADER, QUERY, ROUTES, encodeSseControl, encodeSsePadding, parseTopics, type CloseFrame, type ProbeFrame } from "@throughline/wire";
import { Backlog } from "../backlog.js";
import type { Connection } from "../connection.js";
import type { Envelope } from "../envelope.js";
import type { Exchange, Inbound, StreamSink } from "../exchange.js";
import type { Heartbeat } from "../heartbeat.js";
import { helloFrame } from "../hello.js";
import { BASE_HEADERS, closingError } from "../http.js";
import type { Registry } from "../registry.js";
import type { SessionImpl } from "../session.js";
import type { HttpTransport } from "../transport.js";
import { coalesce, type Batch, type BatchTarget } from "./batch.js";

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...BASE_HEADERS,
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
});

export class SseConnection implements Connection, BatchTarget {
  readonly transport = "sse" as const;
  closed = false;
  /** Messages delivered this turn, written as one chunk at its end (see batch.ts). */
  pending: Batch | undefined;
  /** The pending proof probe (see `probeDelayMs`). */
  probeTimer: unknown;
  /** Made on the first write that finds unsent bytes: a reader that keeps up never needs one. */
  #backlog: Backlog | undefined;

  constructor(
    private readonly registry: Registry,
    readonly session: SessionImpl,
    readonly topics: readonly string[],
    private readonly res: StreamSink,
  ) {}

  /** Unsent writes (`maxBufferedMessages`, see backlog.ts). */
  get backlog(): Backlog {
    return (this.#backlog ??= new Backlog(this.registry.options.maxBufferedMessages, this));
  }

  deliver(envelope: Envelope): void {
    if (!this.closed) this.pending = coalesce(this, this.pending, envelope);
  }

  flushBatch(): void {
    const batch = this.pending;
    if (batch === undefined) return;
    this.pending = undefined;
    const chunk = batch.sse;
    // A batch that would pass maxBufferedBytes goes message by message, so a slow reader is cut
    // at the same message as without batching (the bound stays the limit plus one message).
    if (batch.count > 1 && this.res.buffered + chunk.length > this.registry.options.maxBufferedBytes) {
      for (const e of batch.envelopes()) this.#write(e.sseBuffer, 1);
    } else this.#write(chunk, batch.count);
  }

  heartbeat(beat: Heartbeat): void {
    this.write(beat.sse);
  }

  /** Writes `chunk` after what is pending this turn (order is kept). */
  write(chunk: string | Buffer): void {
    this.flushBatch();
    this.#write(chunk, 1);
  }

  /**
   * One write carrying `messages` messages. `allowance`: bytes of an opening write that may sit
   * unsent on top of `maxBufferedBytes` (see Backlog.beginOpening).
   */
  #write(chunk: string | Buffer, messages: number, allowance = 0): void {
    if (this.closed) return;
    const res = this.res;
    // Only a write queued behind unsent bytes is counted (see Backlog and WebSocket's send).
    if (res.buffered === 0) res.write(chunk);
    else {
      const backlog = this.backlog;
      res.write(chunk, backlog.doneFor(messages));
      backlog.wrote(messages);
    }
    // The socket's unsent bytes (and writes: each costs memory beyond its bytes) grow without
    // bound for a reader that stalls: cut it loose and let it resume from history instead.
    const buffered = res.buffered;
    const max = this.registry.options.maxBufferedBytes;
    // Nothing to track without a backlog within the limit (nor an allowance to keep).
    if (this.#backlog === undefined && buffered <= max && allowance === 0) return;
    const backlog = this.backlog;
    if (allowance > 0) backlog.beginOpening(allowance);
    const tooMany = backlog.tooManyBytes(buffered, max);
    if (allowance > 0) backlog.endOpening();
    if (tooMany) this.close(CloseCode.TOO_SLOW, "the client read too slowly");
  }

  /**
   * The opening write: padding, hello, gaps and, when `replayed`, the replay, in one chunk.
   * node:http holds a turn's writes until the next tick, so the opening is always unsent at
   * first: only one with a replay (or beyond the limit on its own) gets the allowance, and with
   * it a backlog; padding and hello alone are a few KB.
   */
  open(opening: Buffer, replayed: boolean): void {
    this.flushBatch();
    const needsAllowance = replayed || opening.length > this.registry.options.maxBufferedBytes;
    this.#write(opening, 1, needsAllowance ? opening.length : 0);
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
    this.flushBatch(); // what was delivered before the close goes out before it
    if (!this.gone()) return;
    const frame: CloseFrame = { type: "close", code, reason };
    this.res.end(encodeSseControl(frame));
  }

  /** The client went away (or the socket died); `close` ends through here too. `false` if already closed. */
  gone(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.#stopProbe();
    this.#backlog?.dispose();
    this.registry.removeConnection(this);
    return true;
  }
}

/** First non-empty value: SSE resume cursor precedence is `Last-Event-ID`, `cursor`, `lastEventId`. */
function sseCursor(req: Inbound, query: URLSearchParams): string | undefined {
  const header = req.headers[LAST_EVENT_ID_HEADER];
  const candidates = [typeof header === "string" ? header : undefined, query.get(QUERY.cursor), query.get(QUERY.lastEventId)];
  return candidates.find((c): c is string => typeof c === "string" && c !== "");
}

/** The SSE transport: one stream per connection, nothing kept between requests. */
export class SseTransport implements HttpTransport {
  readonly name = "sse" as const;
  readonly route = ROUTES.sse;

  constructor(private readonly registry: Registry) {}

  opens(): boolean {
    return true;
  }

  /**
   * Opens an SSE stream. Throws (before any byte is written) for a bad topic (400), an unknown
   * session (404) or a closing server (503); the router turns that into the JSON error answer.
   */
  serve(ex: Exchange, query: URLSearchParams): void {
    const registry = this.registry;
    if (registry.closed) throw closingError();
    const { options, hub } = registry;
    const topics = parseTopics(query.get(QUERY.topics));
    const cursor = sseCursor(ex, query);
    const session = registry.resolveSession(query.get(QUERY.session), topics, query.get(QUERY.propose) === "1");

    const sink = ex.stream(200, SSE_HEADERS);
    const conn = new SseConnection(registry, session, topics, sink);
    // No cursor: the stream starts where the session began (its first request), see Session.startCursor.
    const plan = hub.plan(topics, cursor ?? session.startCursor, !!cursor);
    const hello = helloFrame(options, session.id, "sse", plan.cursor);
    let out = options.paddingBytes > 0 ? encodeSsePadding(options.paddingBytes) : "";
    out += encodeSseControl(hello, options.retryMs);
    for (const gap of plan.gaps) out += encodeSseControl(gap);
    // The replay's cached bytes, joined once: no string copy of the history per resume.
    const opening = plan.replay.length === 0 ? Buffer.from(out) : Buffer.concat([Buffer.from(out), ...plan.replay.map((e) => e.sseBuffer)]);
    // Plan and subscribe in one synchronous step: nothing published in between can be missed.
    registry.addConnection(conn, true);
    sink.onClose(conn);
    conn.open(opening, plan.replay.length > 0);
    // The negotiator's proof: a second delivery a moment later. A proxy that holds the stream
    // (whole response, N bytes, first event until the second) delivers it late or merged.
    if (options.probeDelayMs > 0 && !conn.closed) conn.probeTimer = registry.setTimer(() => conn.probe(1), options.probeDelayMs);
  }
}
