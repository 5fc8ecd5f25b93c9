/**
 * The `Exchange` over node's request/response pair, shared by `adapters/node-http` (node:http,
 * Express, Koa, Fastify raw objects) and `adapters/http2` (node:http2's compatibility API, whose
 * request/response mirror node:http's).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { httpError } from "@throughline/wire";
import { safetyTimer } from "../clock.js";
import { releaseParserLater } from "./node-parser.js";
import { HOP_BY_HOP, type AnswerHeaders, type Exchange, type ServerRequest, type StreamOwner, type StreamSink } from "../exchange.js";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** How long a closed stream may take to flush its last chunk before it is destroyed. */
export const CLOSE_LINGER_MS = 5_000;

/** Whether the response (or its HTTP/2 stream) is destroyed; Http2ServerResponse has no `destroyed`. */
function destroyed(res: NodeResponse): boolean {
  const r = res as { destroyed?: boolean; stream?: { destroyed: boolean } };
  return r.destroyed ?? r.stream?.destroyed ?? false;
}

function destroy(res: NodeResponse): void {
  const r = res as { destroy?: () => void; stream?: { destroy(): void } };
  if (typeof r.destroy === "function") r.destroy();
  else r.stream?.destroy();
}

export class NodeExchange implements Exchange {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly remoteAddress: string | undefined;
  readonly native: ServerRequest;
  readonly #h2: boolean;

  constructor(
    readonly req: NodeRequest,
    readonly res: NodeResponse,
    url: string,
    /** Free node:http's parser under an open stream (`releaseHttpParser`). */
    private readonly releaseParser = true,
  ) {
    this.method = String(req.method ?? "GET");
    this.url = url;
    this.headers = req.headers;
    this.#h2 = req.httpVersionMajor === 2;
    this.remoteAddress = (this.#h2 ? (req as Http2ServerRequest).stream?.session?.socket?.remoteAddress : req.socket?.remoteAddress) ?? undefined;
    this.native = req as ServerRequest;
  }

  get gone(): boolean {
    if (destroyed(this.res)) return true;
    return this.#h2 ? false : (this.req as IncomingMessage).socket.destroyed;
  }

  onGone(fn: () => void): void {
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      fn();
    };
    this.req.once("close", once);
    this.res.once("close", once);
  }

  get answered(): boolean {
    return this.res.headersSent || destroyed(this.res);
  }

  addHeaders(headers: AnswerHeaders): void {
    for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
  }

  #head(status: number, headers: AnswerHeaders, closeConnection: boolean): void {
    const h: Record<string, string | number> = { ...headers };
    if (this.#h2) {
      for (const k of Object.keys(h)) if (HOP_BY_HOP.has(k)) delete h[k];
    } else if (closeConnection) {
      h.connection = "close";
    }
    (this.res as ServerResponse).writeHead(status, h);
  }

  respond(status: number, headers: AnswerHeaders, body?: string, closeConnection = false): void {
    if (this.answered) return;
    this.#head(status, body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) }, closeConnection);
    if (body === undefined) this.res.end();
    else this.res.end(body);
  }

  abort(): void {
    destroy(this.res);
  }

  stream(status: number, headers: AnswerHeaders): StreamSink {
    this.#head(status, headers, false);
    (this.res as ServerResponse).flushHeaders();
    if (!this.#h2) {
      // Events must leave at once (no Nagle), and an open stream is not "idle".
      const socket = (this.res as ServerResponse).socket ?? (this.req as IncomingMessage).socket;
      socket?.setNoDelay(true);
      socket?.setTimeout(0);
      // The connection's parser idles under the stream: freed, and renewed when it ends.
      if (this.releaseParser) releaseParserLater(this.req as IncomingMessage, this.res as ServerResponse);
    } else {
      (this.req as Http2ServerRequest).stream?.setTimeout(0);
    }
    return new NodeSink(this.res);
  }

  readBody(limit: number): Promise<string> {
    // A framework's body parser (e.g. `express.json()`) may already have read the stream.
    if (this.req.readableEnded) return Promise.resolve(alreadyParsedBody(this.req, limit));
    return readBody(this.req, limit, () => (this.#h2 ? this.abort() : (this.req as IncomingMessage).socket.destroy()));
  }
}

class NodeSink implements StreamSink {
  constructor(private readonly res: NodeResponse) {}

  write(chunk: string | Uint8Array, flushed?: () => void): void {
    const res = this.res as ServerResponse;
    if (flushed) res.write(chunk, flushed);
    else res.write(chunk);
  }

  get buffered(): number {
    return this.res.writableLength;
  }

  get ended(): boolean {
    return destroyed(this.res) || this.res.writableEnded;
  }

  end(last?: string | Uint8Array): void {
    const res = this.res;
    if (this.ended) return;
    if (last === undefined) res.end();
    else res.end(last);
    if (!res.writableFinished) {
      const timer = safetyTimer(() => destroy(res), CLOSE_LINGER_MS);
      res.once("close", () => clearTimeout(timer));
    }
  }

  onClose(owner: StreamOwner): void {
    (this.res as OwnedResponse)[OWNER] = owner;
    this.res.on("close", ownerGone);
    this.res.on("error", ownerGone);
  }
}

/** Where a streaming response keeps its owner, for the one shared close listener. */
const OWNER = Symbol("throughline.streamOwner");
type OwnedResponse = NodeResponse & { [OWNER]?: StreamOwner };

/** The close (and error) listener of every stream: no closure per connection. */
function ownerGone(this: OwnedResponse): void {
  this[OWNER]?.gone();
}

/**
 * The body when a framework's body parser (e.g. `express.json()`) already read the stream:
 * waiting for 'end' would hang, so `req.body` is used instead.
 * @throws ThroughlineError TL_BAD_MESSAGE (nothing usable) or TL_PAYLOAD_TOO_LARGE
 */
function alreadyParsedBody(req: NodeRequest, limit: number): string {
  const body = (req as { body?: unknown }).body;
  let text: string | undefined;
  if (typeof body === "string") text = body;
  else if (Buffer.isBuffer(body)) text = body.toString("utf8");
  else if (body !== undefined && body !== null && typeof body === "object" && Object.keys(body).length > 0) text = JSON.stringify(body);
  if (text === undefined) throw httpError("TL_BAD_MESSAGE", "the request body was already consumed by another middleware and is not available as req.body; mount Throughline before body parsers.");
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
  return text;
}

const tooLarge = (limit: number) => httpError("TL_PAYLOAD_TOO_LARGE", `the body exceeds maxInboundBytes (${limit} bytes); send smaller messages.`);

/**
 * After refusing a body as too large, this much more is still read and discarded so the client
 * finishes sending and sees the 413 (closing mid-upload makes many clients report a reset
 * instead); beyond it, or after the time bound, the socket is destroyed.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;
export const DRAIN_LIMIT_MS = 5_000;

/**
 * Reads a request body up to `limit` bytes.
 * @throws ThroughlineError TL_PAYLOAD_TOO_LARGE (413) beyond the limit (the rest is drained, bounded).
 */
export function readBody(req: NodeRequest, limit: number, kill: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => {
      req.off("data", onData as (chunk: unknown) => void);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (timer) clearTimeout(timer);
      fn();
    };
    const startDraining = () => {
      over = true;
      chunks.length = 0;
      timer = safetyTimer(() => {
        finish(() => reject(tooLarge(limit)));
        kill();
      }, DRAIN_LIMIT_MS);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (!over) {
        if (total > limit) startDraining();
        else chunks.push(chunk);
      } else if (total > limit + DRAIN_LIMIT_BYTES) {
        finish(() => reject(tooLarge(limit)));
        // Stop reading: the answer carries `connection: close` and the socket goes after it.
        req.pause();
      }
    };
    const onEnd = () => finish(() => (over ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks, total).toString("utf8"))));
    const onError = (e: unknown) => finish(() => reject(e));
    const onClose = () => finish(() => reject(httpError("TL_BAD_REQUEST", "the request body was cut off.")));
    if (Number.isFinite(declared) && declared > limit + DRAIN_LIMIT_BYTES) {
      // Do not even drain what is announced as far too big.
      reject(tooLarge(limit));
      return;
    }
    if (Number.isFinite(declared) && declared > limit) startDraining();
    req.on("data", onData as (chunk: unknown) => void);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
