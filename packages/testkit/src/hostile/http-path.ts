/**
 * Plain HTTP requests (and, for refuse-/strip-upgrade, upgrade requests handled as plain HTTP):
 * client request → request chain → upstream; upstream response → response chain → client.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Emit, RequestEvent, RequestHead, ResponseEvent } from "./events.js";
import { endToEnd, fromRaw, isUpgradeRequest, toFlat } from "./events.js";
import { Exchange } from "./exchange.js";
import { emitProxyPage } from "./page.js";
import { requestChain, responseEntries, startHooks } from "./plan.js";
import { openUpstream, relayResponse, type ProxyContext } from "./relay.js";

function responseSink(ex: Exchange, res: ServerResponse): Emit<ResponseEvent> {
  return (event) => {
    if (ex.done || res.destroyed) return;
    if (event.type === "head") {
      if (res.headersSent) return;
      const h = event.head;
      // An empty reason phrase (HTTP/2-style upstreams) falls back to Node's standard one.
      res.writeHead(h.status, h.statusMessage || undefined, toFlat(endToEnd(h.headers)));
      // Send the head now: a proxy that has released it does not sit on it until the first byte.
      res.flushHeaders();
      ex.touch();
    } else if (event.type === "data") {
      ex.touch();
      res.write(event.chunk);
    } else {
      res.end();
    }
  };
}

/** Handles one request from a client connection. */
export function handleHttp(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const head: RequestHead = { method: req.method ?? "GET", url: req.url ?? "/", headers: fromRaw(req.rawHeaders) };
  if (isUpgradeRequest(head)) ctx.stats.upgrades++;
  else ctx.stats.requests++;
  const ex = new Exchange("http", head, req.socket, ctx.clock, ctx.random, ctx.stats, () => {});
  ctx.register(ex);

  const sink = responseSink(ex, res);
  const entries = responseEntries(ctx.plan, ex, sink);
  let answered = false;

  const toUpstream: Emit<RequestEvent> = (() => {
    let up: ReturnType<typeof openUpstream> | undefined;
    return (event) => {
      if (ex.done) return;
      if (event.type === "head") {
        // Hop-by-hop headers (Upgrade and Connection among them) end here, as in any HTTP/1.1 proxy.
        up = openUpstream(ctx, ex, event.head, endToEnd(event.head.headers));
        up.on("response", (ures) => {
          answered = true;
          relayResponse(ex, ures, entries[0]!, req.socket);
        });
        up.on("error", () => {
          if (ex.done || ex.upstreamDropped) return;
          if (answered) return ex.abort();
          answered = true;
          emitProxyPage(502, "The upstream server could not be reached.", sink);
        });
      } else if (event.type === "data") {
        ex.touch();
        up?.write(event.chunk);
      } else {
        up?.end();
      }
    };
  })();

  res.on("finish", () => ex.finish());
  res.on("close", () => ex.abort()); // no-op after finish; else the client went away mid-exchange
  startHooks(ctx.plan, ex);

  const chain = requestChain(ctx.plan, ex, toUpstream, entries);
  chain({ type: "head", head });
  req.on("data", (chunk: Buffer) => {
    ex.touch();
    chain({ type: "data", chunk });
  });
  req.on("end", () => chain({ type: "end" }));
  req.on("error", () => ex.abort());
}
