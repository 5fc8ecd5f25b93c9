/**
 * Pieces shared by the HTTP and upgrade paths: the context a proxy hands to each exchange, the
 * upstream request, feeding an upstream response into a chain, and a sink that writes a response
 * onto a raw socket (upgrade requests that did not get a 101).
 */
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Emit, HeaderList, RequestHead, ResponseEvent } from "./events.js";
import { endToEnd, fromRaw, toFlat } from "./events.js";
import type { Exchange, StatsCounters } from "./exchange.js";
import type { Plan } from "./plan.js";
import type { Clock } from "./types.js";

export interface ProxyContext {
  readonly host: string;
  readonly port: number;
  readonly plan: Plan;
  readonly clock: Clock;
  readonly random: () => number;
  readonly stats: StatsCounters;
  /** Adds a live exchange (removed again when it finishes). */
  register(ex: Exchange): void;
}

/** Opens the upstream request; its socket belongs to the exchange (no shared agent). */
export function openUpstream(ctx: ProxyContext, ex: Exchange, head: RequestHead, headers: HeaderList): ClientRequest {
  const up = request({
    host: ctx.host,
    port: ctx.port,
    method: head.method,
    path: head.url,
    headers: toFlat(headers),
    // One connection per exchange: a cut or close() then tears down exactly what it should.
    agent: false,
    setHost: false,
  });
  ex.setUpstream(() => up.destroy());
  return up;
}

/** Feeds an upstream response into `entry`, pausing it while the client socket is backed up. */
export function relayResponse(ex: Exchange, res: IncomingMessage, entry: Emit<ResponseEvent>, client: Socket): void {
  entry({ type: "head", head: { status: res.statusCode ?? 502, statusMessage: res.statusMessage ?? "", headers: fromRaw(res.rawHeaders) } });
  res.on("data", (chunk: Buffer) => {
    ex.touch();
    entry({ type: "data", chunk });
    if (client.writableNeedDrain && !res.isPaused()) {
      res.pause();
      client.once("drain", () => res.resume());
    }
  });
  res.on("end", () => entry({ type: "end" }));
  res.on("close", () => {
    // The upstream aborted mid-body: pass the abort on rather than pretending the body ended.
    if (!res.complete && !ex.done && !ex.upstreamDropped) ex.abort();
  });
  res.on("error", () => {});
}

/** Serializes a response onto a raw socket (close-delimited: the connection ends with it). */
export function rawResponseSink(ex: Exchange, socket: Socket): Emit<ResponseEvent> {
  let started = false;
  return (event) => {
    if (ex.done || socket.destroyed) return;
    if (event.type === "head") {
      if (started) return;
      started = true;
      const h = event.head;
      const lines = endToEnd(h.headers).map(([n, v]) => `${n}: ${v}\r\n`);
      socket.write(`HTTP/1.1 ${h.status} ${h.statusMessage}\r\n${lines.join("")}Connection: close\r\n\r\n`);
    } else if (event.type === "data") {
      ex.touch();
      socket.write(event.chunk);
    } else {
      socket.end();
    }
  };
}
