/**
 * WebSocket (any HTTP/1.1 upgrade) requests: forwarded with their Upgrade headers; a 101 from the
 * upstream turns the exchange into a byte tunnel through the tunnel stages, any other answer is
 * relayed through the response stages onto the raw socket.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Emit, HeaderList, RequestEvent, RequestHead, TunnelEvent } from "./events.js";
import { endToEnd, fromRaw, headerValue } from "./events.js";
import { Exchange } from "./exchange.js";
import { emitProxyPage } from "./page.js";
import { requestChain, responseEntries, startHooks, tunnelChain } from "./plan.js";
import { openUpstream, rawResponseSink, relayResponse, type ProxyContext } from "./relay.js";

function upgradeHeaders(headers: HeaderList): HeaderList {
  const out = endToEnd(headers);
  out.push(["Connection", "Upgrade"], ["Upgrade", headerValue(headers, "upgrade") ?? "websocket"]);
  return out;
}

function rawHead(res: IncomingMessage): Buffer {
  const lines = fromRaw(res.rawHeaders).map(([n, v]) => `${n}: ${v}\r\n`);
  return Buffer.from(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${lines.join("")}\r\n`);
}

function socketSink(ex: Exchange, socket: Socket, afterFirst?: () => void): Emit<TunnelEvent> {
  let first = true;
  return (event) => {
    if (ex.done || socket.destroyed) return;
    if (event.type === "end") return void socket.end();
    ex.touch();
    if (first && afterFirst) socket.write(event.chunk, () => afterFirst());
    else socket.write(event.chunk);
    first = false;
  };
}

/** Feeds `from` into a chain whose sink writes to `to`, pausing `from` while `to` is backed up. */
function pipe(from: Socket, chain: Emit<TunnelEvent>, to: Socket): void {
  from.on("data", (chunk: Buffer) => {
    chain({ type: "data", chunk });
    if (to.writableNeedDrain && !from.isPaused()) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
  from.on("end", () => chain({ type: "end" }));
}

/** Handles one upgrade request (`server.on("upgrade")`). */
export function handleUpgrade(ctx: ProxyContext, req: IncomingMessage, client: Socket, early: Buffer): void {
  ctx.stats.upgrades++;
  const head: RequestHead = { method: req.method ?? "GET", url: req.url ?? "/", headers: fromRaw(req.rawHeaders) };
  const ex = new Exchange("upgrade", head, client, ctx.clock, ctx.random, ctx.stats, () => {});
  ctx.register(ex);
  client.on("error", () => {});
  client.on("close", () => ex.abort());

  const sink = rawResponseSink(ex, client);
  const entries = responseEntries(ctx.plan, ex, sink);
  let answered = false;

  const openTunnel = (ures: IncomingMessage, upstream: Socket, upstreamEarly: Buffer): void => {
    answered = true;
    ex.setUpstream(() => upstream.destroy());
    upstream.on("error", () => {});
    // A clean upstream end travels down the chain (latency may still hold bytes); anything else aborts.
    let upstreamEnded = false;
    upstream.on("end", () => (upstreamEnded = true));
    upstream.on("close", () => {
      if (!upstreamEnded) ex.abort();
    });
    // upgrade-then-close: the client sees its 101, then the connection dies before any frame.
    const afterFirst = ctx.plan.closeAfter101 ? () => ex.cut() : undefined;
    const down = tunnelChain(ctx.plan, ex, "down", socketSink(ex, client, afterFirst));
    const up = tunnelChain(ctx.plan, ex, "up", socketSink(ex, upstream));
    down({ type: "data", chunk: rawHead(ures) });
    if (ctx.plan.closeAfter101) return;
    if (upstreamEarly.length > 0) down({ type: "data", chunk: upstreamEarly });
    if (early.length > 0) up({ type: "data", chunk: early });
    pipe(upstream, down, client);
    pipe(client, up, upstream);
  };

  const toUpstream: Emit<RequestEvent> = (event) => {
    if (ex.done || event.type !== "head") return; // an upgrade request has no body
    const up = openUpstream(ctx, ex, event.head, upgradeHeaders(event.head.headers));
    up.on("upgrade", openTunnel);
    up.on("response", (ures) => {
      answered = true;
      relayResponse(ex, ures, entries[0]!, client);
    });
    up.on("error", () => {
      if (ex.done || ex.upstreamDropped) return;
      if (answered) return ex.abort();
      answered = true;
      emitProxyPage(502, "The upstream server could not be reached.", sink);
    });
    up.end();
  };

  startHooks(ctx.plan, ex);
  requestChain(ctx.plan, ex, toUpstream, entries)({ type: "head", head });
}
