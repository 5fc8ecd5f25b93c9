/**
 * Turns a list of behaviours into hooks on the four places a proxy can act: the request on its
 * way up, the response on its way down, WebSocket tunnel bytes, and the start of an exchange.
 */
import { bufferAllStage, bufferBytesStage, holdFirstEventStage } from "./buffering.js";
import { compressStage, DEFAULT_COMPRESS_BLOCK_BYTES } from "./compress.js";
import type { Emit, RequestEvent, ResponseEvent, TunnelEvent } from "./events.js";
import { headerValue, isUpgradeRequest } from "./events.js";
import type { Exchange } from "./exchange.js";
import { latencyStage } from "./latency.js";
import { emitProxyPage } from "./page.js";
import type { Behaviour } from "./types.js";

export type Direction = "up" | "down";

/** What one behaviour does; every hook is optional. */
export interface Hooks {
  /** Requests, client → upstream. `reply` answers the client from this point of the chain. */
  request?(ex: Exchange, next: Emit<RequestEvent>, reply: Emit<ResponseEvent>): Emit<RequestEvent>;
  /** Responses, upstream → client. */
  response?(ex: Exchange, next: Emit<ResponseEvent>): Emit<ResponseEvent>;
  /** WebSocket tunnel bytes after the 101 (the 101 itself travels `down` as bytes). */
  tunnel?(ex: Exchange, dir: Direction, next: Emit<TunnelEvent>): Emit<TunnelEvent>;
  /** Called once when an exchange starts (timers). */
  start?(ex: Exchange): void;
}

export interface Plan {
  readonly hooks: readonly Hooks[];
  /** Upgrade requests are handled as plain HTTP (Node then hands them to the request handler). */
  readonly upgradesAsHttp: boolean;
  /** Close WebSocket tunnels right after relaying the upstream's 101. */
  readonly closeAfter101: boolean;
}

function refuseUpgrade(): Hooks {
  return {
    request: (_ex, next, reply) => {
      let refused = false;
      return (event) => {
        if (event.type === "head" && isUpgradeRequest(event.head)) {
          refused = true;
          return emitProxyPage(403, "WebSocket connections are not allowed through this proxy.", reply);
        }
        if (!refused) next(event);
      };
    },
  };
}

function blockEventStream(): Hooks {
  return {
    response: (ex, next) => {
      let blocked = false;
      return (event) => {
        if (blocked) return;
        const type = event.type === "head" ? (headerValue(event.head.headers, "content-type") ?? "") : "";
        if (!/^\s*text\/event-stream/i.test(type)) return next(event);
        blocked = true;
        ex.dropUpstream();
        emitProxyPage(403, "Access to this resource (text/event-stream) is blocked by policy.", next);
      };
    },
  };
}

function cutIdle(ms: number): Hooks {
  return {
    start: (ex) => {
      let timer = ex.setTimer(() => ex.cut(), ms);
      ex.onActivity(() => {
        timer.cancel();
        timer = ex.setTimer(() => ex.cut(), ms);
      });
    },
  };
}

function latency(ms: number, jitterMs: number): Hooks {
  return {
    request: (ex, next) => latencyStage(ms, jitterMs, ex, next),
    response: (ex, next) => latencyStage(ms, jitterMs, ex, next),
    tunnel: (ex, _dir, next) => latencyStage(ms, jitterMs, ex, next),
  };
}

function hooksOf(b: Behaviour): Hooks {
  switch (b.kind) {
    case "pass":
    case "strip-upgrade": // Node's plain-HTTP path already drops Upgrade/Connection (hop-by-hop).
    case "upgrade-then-close":
      return {};
    case "buffer-all":
      return { response: (_ex, next) => bufferAllStage(next) };
    case "buffer-bytes":
      return { response: (_ex, next) => bufferBytesStage(b.bytes, next) };
    case "hold-first-event":
      return { response: (_ex, next) => holdFirstEventStage(next) };
    case "compress":
      return { response: (ex, next) => compressStage(b.blockBytes ?? DEFAULT_COMPRESS_BLOCK_BYTES, ex, next) };
    case "refuse-upgrade":
      return refuseUpgrade();
    case "block-event-stream":
      return blockEventStream();
    case "cut-idle":
      return cutIdle(b.ms);
    case "cut-after":
      return { start: (ex) => void ex.setTimer(() => ex.cut(), b.ms) };
    case "latency":
      return latency(b.ms, b.jitterMs ?? 0);
  }
}

/** Compiles validated behaviours into a plan. */
export function compilePlan(behaviours: readonly Behaviour[]): Plan {
  return {
    hooks: behaviours.map(hooksOf),
    upgradesAsHttp: behaviours.some((b) => b.kind === "refuse-upgrade" || b.kind === "strip-upgrade"),
    closeAfter101: behaviours.some((b) => b.kind === "upgrade-then-close"),
  };
}

/**
 * Builds the response chain. `entries[i]` feeds behaviour `i` (0 is nearest the upstream);
 * `entries[hooks.length]` is the client sink itself.
 */
export function responseEntries(plan: Plan, ex: Exchange, sink: Emit<ResponseEvent>): Emit<ResponseEvent>[] {
  const entries: Emit<ResponseEvent>[] = new Array(plan.hooks.length + 1);
  entries[plan.hooks.length] = sink;
  for (let i = plan.hooks.length - 1; i >= 0; i--) {
    const next = entries[i + 1]!;
    entries[i] = plan.hooks[i]!.response?.(ex, next) ?? next;
  }
  return entries;
}

/** Builds the request chain (the last behaviour sees the request first, being nearest the client). */
export function requestChain(plan: Plan, ex: Exchange, upstream: Emit<RequestEvent>, entries: readonly Emit<ResponseEvent>[]): Emit<RequestEvent> {
  let emit = upstream;
  plan.hooks.forEach((h, i) => {
    if (h.request) emit = h.request(ex, emit, entries[i + 1]!);
  });
  return emit;
}

/** Builds one direction of a tunnel: `down` runs behaviours 0…n-1, `up` runs them n-1…0. */
export function tunnelChain(plan: Plan, ex: Exchange, dir: Direction, sink: Emit<TunnelEvent>): Emit<TunnelEvent> {
  const order = dir === "down" ? [...plan.hooks].reverse() : plan.hooks;
  let emit = sink;
  for (const h of order) if (h.tunnel) emit = h.tunnel(ex, dir, emit);
  return emit;
}

/** Runs every `start` hook. */
export function startHooks(plan: Plan, ex: Exchange): void {
  for (const h of plan.hooks) h.start?.(ex);
}
