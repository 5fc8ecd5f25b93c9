/**
 * The Fetch API adapter: `Request → Promise<Response>` with `ReadableStream` bodies, so the
 * server runs wherever a runtime speaks Fetch (Bun, Deno, edge runtimes, Hono and Effect apps,
 * Node through `@hono/node-server`). SSE answers with a streaming body; a held long-poll is a
 * promise that resolves when the poll is answered.
 *
 * The peer address (for per-address limits) is not part of a `Request`: it comes from the
 * runtime's second handler argument (`Deno.serve`'s `info.remoteAddr`, `Bun.serve`'s
 * `server.requestIP(req)`, `@hono/node-server`'s `env.incoming`) or an explicit `{ remoteAddress }`.
 */
import type { IncomingHttpHeaders } from "node:http";
import { httpError } from "@throughline/wire";
import { HOP_BY_HOP, type AnswerHeaders, type Exchange, type ServerRequest, type StreamOwner, type StreamSink } from "../exchange.js";
import type { Router } from "../router.js";
import { bunPeer, peerText, standardPeer, type BunSocketLike, type PeerEvents, type PeerSocket, type StandardSocketLike } from "../transports/peer.js";


/** What a Bun upgrade carries to the `bunWebSocket` handlers. */
interface BunData {
  readonly opened: (ws: BunSocketLike) => void;
  readonly events: { current?: PeerEvents };
}

/**
 * Bun's WebSocket handlers for `Bun.serve({ fetch: rt.fetch, websocket: bunWebSocket })`: they
 * hand each socket `rt.fetch` upgraded to the WebSocket transport. Shared by every server.
 */
export const bunWebSocket = Object.freeze({
  open(ws: BunSocketLike & { data?: BunData }): void {
    ws.data?.opened(ws);
  },
  message(ws: BunSocketLike & { data?: BunData }, message: string | Uint8Array): void {
    ws.data?.events.current?.message(peerText(message));
  },
  close(ws: BunSocketLike & { data?: BunData }): void {
    ws.data?.events.current?.close();
  },
  pong(ws: BunSocketLike & { data?: BunData }): void {
    ws.data?.events.current?.pong();
  },
});

/** Deno's upgrade API (`Deno.upgradeWebSocket`), found on `globalThis.Deno` when running there. */
interface DenoLike {
  upgradeWebSocket(request: Request): { socket: StandardSocketLike & { onopen: ((ev: unknown) => void) | null }; response: Response };
}

/** The second argument of a fetch handler: ours, Deno's `ServeHandlerInfo`, or Bun's `Server`. */
export type FetchInfo =
  | { readonly remoteAddress?: string }
  | { readonly incoming?: { readonly socket?: { readonly remoteAddress?: string } } }
  | { readonly remoteAddr?: { readonly hostname?: string } }
  | {
      requestIP?(request: Request): { readonly address: string } | null;
      /** Bun's `server.upgrade`. */
      upgrade?(request: Request, options?: { data?: unknown }): boolean;
    };

/** A Fetch API handler; answers 404 for paths outside the server's `path`. */
export type FetchHandler = (request: Request, info?: FetchInfo) => Promise<Response>;

function addressOf(request: Request, info: FetchInfo | undefined): string | undefined {
  if (!info) return undefined;
  if ("remoteAddress" in info && typeof info.remoteAddress === "string") return info.remoteAddress;
  // @hono/node-server passes node's request as `env.incoming`.
  if ("incoming" in info && typeof info.incoming?.socket?.remoteAddress === "string") return info.incoming.socket.remoteAddress;
  if ("remoteAddr" in info && typeof info.remoteAddr?.hostname === "string") return info.remoteAddr.hostname;
  if ("requestIP" in info && typeof info.requestIP === "function") {
    try {
      return info.requestIP(request)?.address ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Fetch `Headers` as node's lower-case record (what `authenticate` callbacks read everywhere). */
function headersOf(request: Request): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function toHeaders(headers: AnswerHeaders, extra: AnswerHeaders): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries({ ...headers, ...extra })) if (!HOP_BY_HOP.has(k)) h.set(k, String(v));
  return h;
}

const encoder = new TextEncoder();

export class FetchExchange implements Exchange {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  readonly native: ServerRequest;
  /** Resolves with the answer, whenever it is given. */
  readonly response: Promise<Response>;
  #resolve!: (r: Response) => void;
  #extra: Record<string, string | number> = {};
  #answered = false;
  #gone = false;
  readonly #goneFns: Array<() => void> = [];
  #sink: FetchSink | undefined;

  readonly #info: FetchInfo | undefined;

  constructor(readonly request: Request, info?: FetchInfo) {
    this.#info = info;
    const u = new URL(request.url);
    this.method = request.method.toUpperCase();
    this.url = u.pathname + u.search;
    this.headers = headersOf(request);
    this.remoteAddress = addressOf(request, info);
    this.native = { method: this.method, url: this.url, headers: this.headers, request };
    this.response = new Promise((resolve) => (this.#resolve = resolve));
    const signal = request.signal as AbortSignal | undefined;
    if (signal) {
      if (signal.aborted) this.#goAway();
      else signal.addEventListener("abort", () => this.#goAway(), { once: true });
    }
  }

  #goAway(): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const fn of this.#goneFns.splice(0)) fn();
    // Nobody will read it, but the handler's promise must settle: runtimes (Deno's shutdown)
    // wait for every pending handler, and a held poll of a vanished client is never answered.
    if (!this.#answered) {
      this.#answered = true;
      this.#resolve(new Response(null, { status: 503 }));
    }
  }

  get gone(): boolean {
    return this.#gone;
  }

  onGone(fn: () => void): void {
    if (this.#gone) queueMicrotask(fn);
    else this.#goneFns.push(fn);
  }

  get answered(): boolean {
    return this.#answered;
  }

  addHeaders(headers: AnswerHeaders): void {
    Object.assign(this.#extra, headers);
  }

  respond(status: number, headers: AnswerHeaders, body?: string): void {
    if (this.#answered) return;
    this.#answered = true;
    // 204/304 must not have a body; everything else gets one (possibly empty).
    this.#resolve(new Response(status === 204 || status === 304 ? null : (body ?? ""), { status, headers: toHeaders(headers, this.#extra) }));
  }

  stream(status: number, headers: AnswerHeaders): StreamSink {
    this.#answered = true;
    const sink = (this.#sink = new FetchSink(() => this.#goAway()));
    this.onGone(() => sink.closed());
    this.#resolve(new Response(sink.readable, { status, headers: toHeaders(headers, this.#extra) }));
    return sink;
  }

  abort(): void {
    if (this.#sink) this.#sink.fail();
    else this.respond(500, {});
    this.#goAway();
  }

  upgradeWebSocket(): Promise<PeerSocket> | undefined {
    if (this.#answered) return undefined;
    const info = this.#info as { upgrade?: (request: Request, options?: { data?: unknown }) => boolean } | undefined;
    if (typeof info?.upgrade === "function") {
      // Bun: the socket comes to `bunWebSocket.open`, which calls `opened`.
      const events: { current?: PeerEvents } = {};
      let opened!: (ws: BunSocketLike) => void;
      const peer = new Promise<PeerSocket>((resolve) => (opened = (ws) => resolve(bunPeer(ws, events))));
      const data: BunData = { opened, events };
      if (!info.upgrade(this.request, { data })) return undefined;
      this.#answered = true;
      // After a successful upgrade Bun answers the 101 itself and wants no Response.
      this.#resolve(undefined as unknown as Response);
      return peer;
    }
    const deno = (globalThis as { Deno?: Partial<DenoLike> }).Deno;
    if (typeof deno?.upgradeWebSocket === "function") {
      // Deno: the 101 is the Response we answer with; the socket opens after it went out.
      // Answered before the call: Deno aborts the request's signal as it upgrades (its legacy
      // "aborts on a successful response"), which must not answer 503 in the upgrade's place.
      this.#answered = true;
      let upgraded: ReturnType<DenoLike["upgradeWebSocket"]>;
      try {
        upgraded = deno.upgradeWebSocket(this.request);
      } catch {
        this.#answered = false;
        return undefined; // Not a valid upgrade request (Deno checks the handshake headers).
      }
      const { socket, response } = upgraded;
      this.#resolve(response);
      return new Promise<PeerSocket>((resolve, reject) => {
        socket.onopen = () => resolve(standardPeer(socket));
        // Gone before it opened: nothing to serve (the caller releases the admission).
        socket.onclose = () => reject(new Error("closed before open"));
      });
    }
    return undefined;
  }

  async readBody(limit: number): Promise<string> {
    const tooLarge = () => httpError("TL_PAYLOAD_TOO_LARGE", `the body exceeds maxInboundBytes (${limit} bytes); send smaller messages.`);
    const declared = Number(this.request.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > limit) throw tooLarge();
    const body = this.request.body;
    if (!body) return "";
    if (this.request.bodyUsed) throw httpError("TL_BAD_MESSAGE", "the request body was already consumed by another handler; mount Throughline before body parsers.");
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch {
        throw httpError("TL_BAD_REQUEST", "the request body was cut off.");
      }
      if (step.done) break;
      total += step.value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(step.value);
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    return new TextDecoder().decode(all);
  }
}

/**
 * A streaming body. Chunks queue in the stream (high-water mark 0: nothing is pulled ahead), so
 * its queue size is exactly what the reader has not taken yet: the `buffered` the slow-consumer
 * limits read. Write callbacks run once the reader took everything before and including them.
 */
class FetchSink implements StreamSink {
  readonly readable: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #ended = false;
  #enqueued = 0;
  readonly #waiting: Array<{ upTo: number; fn: () => void }> = [];
  readonly #closeFns: Array<() => void> = [];

  constructor(onCancel: () => void) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#controller = c;
        },
        pull: () => this.#settle(),
        cancel: () => {
          this.closed();
          onCancel();
        },
      },
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
  }

  get buffered(): number {
    const d = this.#controller.desiredSize;
    return d === null ? 0 : Math.max(0, -d);
  }

  get ended(): boolean {
    return this.#ended;
  }

  #settle(): void {
    const taken = this.#enqueued - this.buffered;
    while (this.#waiting.length > 0 && this.#waiting[0]!.upTo <= taken) this.#waiting.shift()!.fn();
  }

  write(chunk: string | Uint8Array, flushed?: () => void): void {
    if (this.#ended) return;
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    this.#controller.enqueue(bytes);
    this.#enqueued += bytes.byteLength;
    if (flushed) this.#waiting.push({ upTo: this.#enqueued, fn: flushed });
    this.#settle();
  }

  end(last?: string | Uint8Array): void {
    if (this.#ended) return;
    if (last !== undefined) this.write(last);
    this.#ended = true;
    try {
      this.#controller.close();
    } catch {
      // already closed by a cancel
    }
    // The runtime owns the body from here: a reader that never takes the rest is its to drop.
    this.closed();
  }

  fail(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#controller.error(new Error("aborted"));
    } catch {
      // already closed
    }
    this.closed();
  }

  /** The stream is over (ended, cancelled by the reader, or the request aborted). */
  closed(): void {
    this.#ended = true;
    for (const fn of this.#closeFns.splice(0)) fn();
  }

  onClose(owner: StreamOwner): void {
    this.#closeFns.push(() => owner.gone());
  }
}

/** `(request, info?) → Response`: 404 (not a Throughline answer: no marker) outside the path. */
export function fetchHandler(router: Router): FetchHandler {
  return (request, info) => {
    const ex = new FetchExchange(request, info);
    if (!router.handle(ex)) return Promise.resolve(new Response("Not Found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } }));
    return ex.response;
  };
}

/** Whether `request` is under the server's path (for middleware that passes the rest on). */
export function fetchMatches(router: Router, request: Request): boolean {
  return router.match(new URL(request.url).pathname) !== undefined;
}
