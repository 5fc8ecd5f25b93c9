/**
 * WebSocket transport over any runtime's socket (`PeerSocket`: `ws` on Node, the standard
 * `WebSocket` on Deno, Bun's): one JSON frame per text message in both directions. The
 * server's `close` frame goes out as JSON first (so every transport reports close codes the
 * same way), then the WebSocket close with the same code.
 *
 * A malformed client frame is ignored and the connection kept: one buggy message from an
 * application must not cost the client its stream (and a reconnect storm). Oversized messages
 * are refused by `ws` itself (`maxPayload`), which closes with 1009.
 */
import { CloseCode, QUERY, closeCodeOf, decodeClientFrames, encodeFrame, parseTopics, type CloseFrame } from "@throughline/wire";
import type { Connection } from "../connection.js";
import type { Envelope } from "../envelope.js";
import type { Heartbeat } from "../heartbeat.js";
import { helloFrame } from "../hello.js";
import type { Registry } from "../registry.js";
import type { SessionImpl } from "../session.js";
import { Backlog } from "../backlog.js";
import { CLIENT_TIMEOUT_SLACK_MS } from "../options.js";
import { coalesce, type Batch, type BatchTarget } from "./batch.js";
import type { PeerEvents, PeerSocket } from "./peer.js";

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(reason: string): string {
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** Sends a close frame, then closes; never throws. */
export function sendClose(ws: PeerSocket, code: number, reason: string): void {
  try {
    if (ws.open) ws.send(encodeFrame({ type: "close", code, reason } satisfies CloseFrame));
    ws.close(code, closeReason(reason));
  } catch {
    ws.terminate();
  }
}

export class WebSocketConnection implements Connection, BatchTarget {
  readonly transport = "websocket" as const;
  closed = false;
  /** Messages delivered this turn, written together at its end (see batch.ts). */
  pending: Batch | undefined;
  /** Clock time of the last frame or pong from the client (heartbeats prove liveness). */
  lastSeen: number;
  /** Clock time of the last frame from the client (not a pong: its own script is running). */
  lastFrame = -Infinity;
  /** Unsent messages (`maxBufferedMessages`, see backlog.ts). */
  readonly backlog: Backlog;

  constructor(
    private readonly registry: Registry,
    readonly session: SessionImpl,
    readonly topics: readonly string[],
    readonly ws: PeerSocket,
  ) {
    this.lastSeen = registry.options.clock.now();
    this.backlog = new Backlog(registry.options.maxBufferedMessages, this);
  }

  deliver(envelope: Envelope): void {
    if (!this.closed) this.pending = coalesce(this, this.pending, envelope);
  }

  /**
   * Writes this turn's messages: their prebuilt frames in one raw socket write where the socket
   * takes raw frames (`ws` without compression and with nothing of its own queued), else one
   * `send` each (Bun, Deno, a `ws` with permessage-deflate).
   */
  flushBatch(): void {
    const batch = this.pending;
    if (batch === undefined) return;
    this.pending = undefined;
    if (this.closed || !this.ws.open) return;
    const ws = this.ws;
    const n = batch.count;
    const buffered = ws.bufferedAmount;
    const frames = ws.sendFrames === undefined ? undefined : batch.wsFrames;
    // A batch that would pass maxBufferedBytes goes message by message, so a slow reader is cut
    // at the same message as without batching (the bound stays the limit plus one message).
    if (frames !== undefined && (n === 1 || buffered + frames.length <= this.registry.options.maxBufferedBytes)) {
      const counted = buffered !== 0;
      if (ws.sendFrames!(frames, counted ? this.backlog.doneFor(n) : undefined)) {
        if (counted) this.backlog.wrote(n);
        this.#checkBuffered();
        return;
      }
    }
    for (const e of batch.envelopes()) this.#send(e.jsonBuffer);
  }

  /**
   * Called on every ticker tick: a peer silent for `clientTimeoutMs` is dead (a vanished NAT
   * entry, a sleeping laptop) and is terminated, freeing its buffers; otherwise a heartbeat frame
   * (for the client's own dead-connection check) goes out, with a ping (answered by the client's
   * WebSocket implementation, not by script) unless a frame from the client within the last
   * `heartbeatMs` already showed it alive (@throughline/client sends one every `heartbeatMs`;
   * a throttled background tab that does not gets pinged). Skipping the ping spares each tick a
   * pong to write on every client and to read here.
   */
  heartbeat(beat: Heartbeat): void {
    if (this.closed) return;
    if (beat.time - this.lastSeen > this.registry.options.clientTimeoutMs) {
      this.terminate();
      return;
    }
    // Skipped only while, should the client's frames stop now, the next tick still comes (up to
    // CLIENT_TIMEOUT_SLACK_MS late) before clientTimeoutMs: it then pings (the default timeout
    // always leaves that room; a shorter one set by hand pings more often).
    const { heartbeatMs, clientTimeoutMs } = this.registry.options;
    const quiet = beat.time - this.lastFrame;
    const ping = quiet >= heartbeatMs || quiet + heartbeatMs + CLIENT_TIMEOUT_SLACK_MS > clientTimeoutMs;
    this.flushBatch();
    if (this.closed || !this.ws.open) return;
    // Into an empty buffer, heartbeat (and ping) go as one write (uncounted, as in #send); else
    // (bytes queued: counted) or where the socket frames itself, one send and a ping.
    if (this.ws.bufferedAmount === 0 && this.ws.sendFrames?.(ping ? beat.wsFramesWithPing : beat.wsFrame) === true) {
      this.#checkBuffered();
      return;
    }
    this.#send(beat.ws);
    if (!ping) return;
    try {
      if (!this.closed && this.ws.open) this.ws.ping();
    } catch {
      // The close event reports a broken socket.
    }
  }

  /** Ends a dead connection without a closing handshake (nobody would answer it). */
  terminate(): void {
    if (this.gone()) this.ws.terminate();
  }

  /** Sends one text frame after what is pending this turn (order is kept). */
  send(data: string | Buffer): void {
    this.flushBatch();
    this.#send(data);
  }

  #send(data: string | Buffer): void {
    if (this.closed || !this.ws.open) return;
    // A Buffer is sent as is (TEXT keeps it a text frame): no per-socket re-encoding. Only a
    // write queued behind unsent bytes is counted (see Backlog): into an empty buffer it goes
    // to the kernel at once, and a write callback per delivery costs a tick on the hot path.
    if (this.ws.bufferedAmount === 0) this.ws.send(data);
    else {
      this.ws.send(data, this.backlog.done);
      this.backlog.wrote();
    }
    this.#checkBuffered();
  }

  #checkBuffered(): void {
    if (this.backlog.tooManyBytes(this.ws.bufferedAmount, this.registry.options.maxBufferedBytes)) this.close(CloseCode.TOO_SLOW, "the client read too slowly");
  }

  close(code: number, reason: string): void {
    this.flushBatch(); // what was delivered before the close goes out before it
    if (this.gone()) sendClose(this.ws, code, reason);
  }

  /** The socket closed (either side); every other ending goes through here. `false` if already closed. */
  gone(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.backlog.dispose();
    this.registry.removeConnection(this);
    return true;
  }

  /** The client answered a ping: it is alive. */
  pong(): void {
    this.lastSeen = this.registry.options.clock.now();
  }

  receive(text: string): void {
    if (this.closed) return;
    let frames;
    try {
      frames = decodeClientFrames(text);
    } catch {
      return; // malformed: ignored, the connection stays (see the file comment)
    }
    this.lastSeen = this.lastFrame = this.registry.options.clock.now();
    // A client probe is the negotiator's round trip: answer on this socket at once, so the
    // client knows data flows both ways (a proxy may pass the 101 and then nothing).
    for (const f of frames) {
      if (f.type === "probe") this.send(encodeFrame({ type: "probe", seq: f.seq, time: this.registry.options.clock.now() }));
    }
    this.registry.dispatch(frames, this.session);
  }
}

/** A socket's events, wired to its connection: one small object, no closures per connection. */
class ConnectionEvents implements PeerEvents {
  constructor(private readonly conn: WebSocketConnection) {}

  message(text: string): void {
    this.conn.receive(text);
  }

  close(): void {
    this.conn.gone();
  }

  pong(): void {
    this.conn.pong();
  }
}

/** Starts the protocol on an upgraded socket: hello, gaps, replay, then live. */
export function openWebSocket(registry: Registry, ws: PeerSocket, query: URLSearchParams): void {
  const { options, hub } = registry;
  let session: SessionImpl;
  let topics: string[];
  try {
    topics = parseTopics(query.get(QUERY.topics));
    session = registry.resolveSession(query.get(QUERY.session), topics, query.get(QUERY.propose) === "1");
  } catch (err) {
    const e = err as { code?: string; message?: string };
    sendClose(ws, closeCodeOf(String(e.code)), String(e.message ?? "bad request"));
    return;
  }
  const conn = new WebSocketConnection(registry, session, topics, ws);
  const plan = hub.plan(topics, query.get(QUERY.cursor) || session.startCursor, !!query.get(QUERY.cursor));
  const hello = helloFrame(options, session.id, "websocket", plan.cursor);
  registry.addConnection(conn, true);
  ws.listen(new ConnectionEvents(conn));
  const opening = [encodeFrame(hello), ...plan.gaps.map((g) => encodeFrame(g))];
  conn.backlog.beginOpening(opening.reduce((n, f) => n + Buffer.byteLength(f), 0) + plan.replay.reduce((n, e) => n + e.jsonBuffer.length, 0));
  for (const f of opening) conn.send(f);
  for (const e of plan.replay) conn.send(e.jsonBuffer);
  conn.backlog.endOpening();
}
