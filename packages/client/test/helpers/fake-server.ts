/**
 * A small Throughline server speaking PROTOCOL.md, for the client's tests (the real server is a
 * separate package). Real loopback sockets: node:http for SSE, long-poll and sends, `ws` for
 * WebSocket. Records every request so tests can assert what the client sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  MARKER_HEADER,
  MARKER_VALUE,
  decodeClientFrames,
  encodeFrame,
  encodeSseControl,
  encodeSseHeartbeat,
  encodeSseMessage,
  encodeSsePadding,
  httpError,
  parseId,
  parseTopics,
  type ClientFrame,
  type ErrorCode,
  type HeartbeatFrame,
  type HelloFrame,
  type MessageFrame,
  type ServerFrame,
  type TransportName,
} from "@throughline/wire";

export interface RecordedRequest {
  readonly route: string;
  readonly method: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
}

export interface FakeServerOptions {
  /** @default 60_000 (tests of dead-connection detection lower it) */
  heartbeatMs?: number;
  /** @default 20 */
  retryMs?: number;
  /** @default 400 */
  holdMs?: number;
}

interface Conn {
  readonly transport: TransportName;
  readonly session: string;
  readonly topics: readonly string[];
  send(f: ServerFrame): void;
  /** Writes a close frame, then ends. */
  close(code: number, reason: string): void;
  /** Ends without a close frame. */
  drop(): void;
}

interface PollState {
  topics: readonly string[];
  cursor: number;
  controls: ServerFrame[];
  held?: { res: ServerResponse; timer: NodeJS.Timeout };
}

/** Names the request of a `FakeServer.fetch` call, so the server can pace its SSE probe (see there). */
const PACED_HEADER = "x-fake-paced";

/** The SSE proof probe comes this long after the hello (the real server's `probeDelayMs` is 100). */
const PROBE_DELAY_MS = 30;

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** Client→server frames, over /send and WebSocket. */
  readonly received: ClientFrame[] = [];
  readonly sessions = new Set<string>();
  /** Handles a request before the protocol does; return true if it answered. */
  intercept: ((req: IncomingMessage, res: ServerResponse, route: string) => boolean) | undefined;
  /** Handles an upgrade before the protocol does; return true if it answered. */
  interceptUpgrade: ((req: IncomingMessage, socket: Duplex) => boolean) | undefined;
  epoch = "ep1";
  url = "";
  private seq = 0;
  private readonly history: MessageFrame[] = [];
  private readonly conns = new Set<Conn>();
  private readonly polls = new Map<string, PollState>();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private nextSession = 1;
  private readonly o: Required<FakeServerOptions>;
  private nextPaced = 1;
  /**
   * Paced SSE responses (`fetch`) whose probe waits for the client: called with how many bytes of
   * the body the client has handled so far.
   */
  private readonly paced = new Map<string, (handled: number) => void>();

  /**
   * A `fetch` for the client under test that takes the machine's load out of the SSE proof. The
   * probe normally follows the hello by a fixed delay; a client whose event loop a loaded machine
   * does not run for that long reads both in one delivery, or close together, and rightly
   * classifies the stream as held by a proxy (transports/sse.ts). Through this fetch the server
   * starts that delay only once the client has handled the hello: its response body is pulled only
   * when the client asks for its next read, which it does after handling the previous one. Each
   * network read stays one read of the client (the proof still counts real deliveries).
   */
  readonly fetch: typeof fetch = async (input, init) => {
    const id = String(this.nextPaced++);
    const headers = new Headers(init?.headers);
    headers.set(PACED_HEADER, id);
    const res = await fetch(input, { ...init, headers });
    if (!res.body || !/^text\/event-stream\b/i.test(res.headers.get("content-type") ?? "")) return res;
    const reader = res.body.getReader();
    let read = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // Asked for more: the client has handled all it was given.
          this.paced.get(id)?.(read);
          const r = await reader.read();
          if (r.done) return controller.close();
          read += r.value.byteLength;
          controller.enqueue(r.value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      // Nothing is read ahead: a pull means the client asked.
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  constructor(options: FakeServerOptions = {}) {
    this.o = { heartbeatMs: 60_000, retryMs: 20, holdMs: 400, ...options };
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.http.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/realtime`;
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.drop();
    for (const p of this.polls.values()) if (p.held) clearTimeout(p.held.timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** Requests to one route (`/sse`, `/ws`, `/poll`, `/send`). */
  hits(route: string): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  get connectionCount(): number {
    return this.conns.size + [...this.polls.values()].filter((p) => p.held).length;
  }

  publish(topic: string, data: unknown, event = "message"): string {
    const id = `${this.epoch}-${++this.seq}`;
    const m: MessageFrame = { type: "message", id, topic, event, data };
    this.history.push(m);
    for (const c of this.conns) if (matches(c.topics, topic)) c.send(m);
    for (const [session, p] of this.polls) if (p.held && matches(p.topics, topic)) this.answerPoll(session, p);
    return id;
  }

  /** Closes every connection (and long-poll session) with a close frame. */
  closeAll(code: number, reason = ""): void {
    for (const c of [...this.conns]) c.close(code, reason);
    for (const [session, p] of this.polls) {
      p.controls.push({ type: "close", code, reason });
      if (p.held) this.answerPoll(session, p);
    }
  }

  /** Ends every connection without a close frame (a network failure). */
  dropAll(): void {
    for (const c of [...this.conns]) c.drop();
    for (const p of this.polls.values()) {
      if (p.held) {
        clearTimeout(p.held.timer);
        p.held.res.socket?.destroy();
        p.held = undefined;
      }
    }
  }

  /** Forgets sessions, as a restarted server would (with `epoch`, a restart without history). */
  forgetSessions(): void {
    this.sessions.clear();
    this.polls.clear();
  }

  private head(): string {
    return `${this.epoch}-${this.seq}`;
  }

  private hello(session: string, transport: TransportName): ServerFrame {
    return {
      type: "hello", session, transport, heartbeatMs: this.o.heartbeatMs, time: Date.now(), cursor: this.head(), retryMs: this.o.retryMs,
      ...(transport === "long-poll" ? { holdMs: this.o.holdMs } : {}),
    };
  }

  /** Frames a resume from `cursor` replays, and the seq the stream continues after. */
  private replay(cursor: string | null, topics: readonly string[]): ServerFrame[] {
    if (!cursor) return [];
    const c = parseId(cursor);
    if (!c || (c.epoch === this.epoch && c.seq > this.seq)) return [{ type: "gap", topic: "*", reason: "invalid-cursor", cursor: this.head() }];
    if (c.epoch !== this.epoch) return [{ type: "gap", topic: "*", reason: "epoch", cursor: this.head() }];
    return this.history.filter((m) => parseId(m.id)!.seq > c.seq && matches(topics, m.topic));
  }

  /** Session for a connection: a new one, the named one, or undefined if unknown. */
  private session(query: URLSearchParams): string | undefined {
    const s = query.get("session");
    if (s === null) {
      const id = `s${this.nextSession++}`;
      this.sessions.add(id);
      return id;
    }
    if (this.sessions.has(s)) return s;
    // A client's proposal (QUERY.propose) creates the session under its id, as the real server does.
    if (query.get("propose") === "1" && s.length >= 22) {
      this.sessions.add(s);
      return s;
    }
    return undefined;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const route = url.pathname.replace(/^\/realtime/, "");
    this.requests.push({ route, method: req.method ?? "", query: url.searchParams, headers: req.headers });
    if (this.intercept?.(req, res, route)) return;
    res.setHeader(MARKER_HEADER, MARKER_VALUE);
    try {
      if (route === "/sse" && req.method === "GET") return this.onSse(req, res, url.searchParams);
      if (route === "/poll" && req.method === "GET") return this.onPoll(res, url.searchParams);
      if (route === "/send" && req.method === "POST") return this.onSend(req, res, url.searchParams);
      fail(res, "TL_NOT_FOUND", "no such route");
    } catch (e) {
      fail(res, (e as { code?: ErrorCode }).code ?? "TL_INTERNAL", String(e));
    }
  }

  private onSse(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
    const topics = parseTopics(q.get("topics"));
    const session = this.session(q);
    if (!session) return fail(res, "TL_UNKNOWN_SESSION", "unknown session");
    const cursor = (req.headers["last-event-id"] as string | undefined) ?? q.get("cursor") ?? q.get("lastEventId");
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform" });
    const write = (f: ServerFrame) => {
      if (f.type === "message") res.write(encodeSseMessage(f.id, f.topic, f.event, JSON.stringify(f.data)));
      else if (f.type === "heartbeat") res.write(encodeSseHeartbeat(f.time));
      else res.write(encodeSseControl(f as Exclude<ServerFrame, MessageFrame | HeartbeatFrame>));
    };
    const padding = encodeSsePadding();
    const hello = encodeSseControl(this.hello(session, "sse") as HelloFrame, this.o.retryMs);
    res.write(padding);
    res.write(hello);
    for (const f of this.replay(cursor, topics)) write(f);
    const hb = setInterval(() => write({ type: "heartbeat", time: Date.now() }), this.o.heartbeatMs);
    // The negotiator's proof (PROTOCOL.md "Probes"): a second write a moment after the hello;
    // through `fetch`, a moment after the client handled the hello.
    let probe: NodeJS.Timeout | undefined;
    const sendProbe = () => {
      probe = setTimeout(() => {
        if (!res.writableEnded && !res.destroyed) write({ type: "probe", seq: 1, time: Date.now() });
      }, PROBE_DELAY_MS);
    };
    const paced = req.headers[PACED_HEADER];
    if (typeof paced === "string") {
      const helloEnd = Buffer.byteLength(padding) + Buffer.byteLength(hello);
      this.paced.set(paced, (handled) => {
        if (handled < helloEnd) return;
        this.paced.delete(paced);
        sendProbe();
      });
    } else sendProbe();
    res.once("close", () => {
      clearTimeout(probe);
      if (typeof paced === "string") this.paced.delete(paced);
    });
    const conn: Conn = {
      transport: "sse", session, topics,
      send: write,
      close: (code, reason) => {
        write({ type: "close", code, reason });
        clearInterval(hb);
        this.conns.delete(conn);
        res.end();
      },
      drop: () => {
        clearInterval(hb);
        this.conns.delete(conn);
        res.socket?.destroy();
      },
    };
    this.conns.add(conn);
    res.on("close", () => {
      clearInterval(hb);
      this.conns.delete(conn);
    });
  }

  private onPoll(res: ServerResponse, q: URLSearchParams): void {
    const topics = parseTopics(q.get("topics"));
    // A new connection: no session, or `connect=1` (QUERY.connect) joining an existing one.
    const fresh = q.get("session") === null || q.get("connect") === "1";
    const session = this.session(q);
    if (!session) return fail(res, "TL_UNKNOWN_SESSION", "unknown session");
    if (fresh) {
      const frames = [this.hello(session, "long-poll"), ...this.replay(q.get("cursor"), topics)];
      this.polls.set(session, { topics, cursor: this.seq, controls: [] });
      return answer(res, frames);
    }
    const p = this.polls.get(session) ?? { topics, cursor: this.seq, controls: [] };
    this.polls.set(session, p);
    const c = parseId(q.get("cursor"));
    if (c && c.epoch === this.epoch) p.cursor = c.seq;
    if (p.held) {
      // A second poll replaces the first held one, which is answered [].
      clearTimeout(p.held.timer);
      answer(p.held.res, []);
      p.held = undefined;
    }
    const timer = setTimeout(() => {
      if (p.held?.res !== res) return;
      p.held = undefined;
      answer(res, [{ type: "heartbeat", time: Date.now() }]);
    }, this.o.holdMs);
    p.held = { res, timer };
    res.on("close", () => {
      if (p.held?.res === res) {
        clearTimeout(timer);
        p.held = undefined;
      }
    });
    if (p.controls.length || this.history.some((m) => parseId(m.id)!.seq > p.cursor && matches(p.topics, m.topic))) this.answerPoll(session, p);
  }

  private answerPoll(session: string, p: PollState): void {
    const held = p.held;
    if (!held) return;
    clearTimeout(held.timer);
    p.held = undefined;
    const frames: ServerFrame[] = [...this.history.filter((m) => parseId(m.id)!.seq > p.cursor && matches(p.topics, m.topic)), ...p.controls];
    if (p.controls.some((f) => f.type === "close")) {
      this.polls.delete(session);
      this.sessions.delete(session);
    }
    p.controls = [];
    answer(held.res, frames);
  }

  private onSend(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
    const session = q.get("session");
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (!session || !this.sessions.has(session)) return fail(res, "TL_UNKNOWN_SESSION", "unknown session");
      let frames: ClientFrame[];
      try {
        frames = decodeClientFrames(body);
      } catch (e) {
        return fail(res, "TL_BAD_MESSAGE", String(e));
      }
      this.received.push(...frames);
      if (frames.some((f) => f.type === "close")) this.endSession(session);
      res.writeHead(204).end();
    });
  }

  private endSession(session: string): void {
    this.sessions.delete(session);
    this.polls.delete(session);
    for (const c of [...this.conns]) if (c.session === session) c.drop();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://x");
    const route = url.pathname.replace(/^\/realtime/, "");
    this.requests.push({ route, method: "UPGRADE", query: url.searchParams, headers: req.headers });
    if (this.interceptUpgrade?.(req, socket)) return;
    if (route !== "/ws") return void socket.destroy();
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onWebSocket(ws, url.searchParams));
  }

  private onWebSocket(ws: WebSocket, q: URLSearchParams): void {
    const topics = parseTopics(q.get("topics"));
    const session = this.session(q);
    if (!session) return void ws.close(4404, "unknown session");
    const send = (f: ServerFrame) => ws.readyState === ws.OPEN && ws.send(encodeFrame(f));
    send(this.hello(session, "websocket"));
    for (const f of this.replay(q.get("cursor"), topics)) send(f);
    const hb = setInterval(() => send({ type: "heartbeat", time: Date.now() }), this.o.heartbeatMs);
    const conn: Conn = {
      transport: "websocket", session, topics, send,
      close: (code, reason) => {
        send({ type: "close", code, reason });
        clearInterval(hb);
        this.conns.delete(conn);
        ws.close(code, reason);
      },
      drop: () => {
        clearInterval(hb);
        this.conns.delete(conn);
        ws.terminate();
      },
    };
    this.conns.add(conn);
    ws.on("message", (data) => {
      const frames = decodeClientFrames(String(data));
      // The negotiator's round trip: answer client probes at once (PROTOCOL.md "Probes").
      for (const f of frames) if (f.type === "probe") send({ type: "probe", seq: f.seq, time: Date.now() });
      this.received.push(...frames.filter((f) => f.type !== "probe"));
    });
    ws.on("close", () => {
      clearInterval(hb);
      this.conns.delete(conn);
    });
  }
}

function matches(topics: readonly string[], topic: string): boolean {
  return topics.includes("*") || topics.includes(topic);
}

function answer(res: ServerResponse, frames: readonly ServerFrame[]): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(frames));
}

function fail(res: ServerResponse, code: ErrorCode, message: string): void {
  const e = httpError(code, message);
  res.writeHead(e.status ?? 500, { "content-type": "application/json" }).end(JSON.stringify(e.toJSON()));
}

/** Starts a fake server on a loopback port. */
export function startFakeServer(options?: FakeServerOptions): Promise<FakeServer> {
  return new FakeServer(options).listen();
}
