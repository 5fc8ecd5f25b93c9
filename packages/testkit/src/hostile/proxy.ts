/**
 * `startHostileProxy`: a loopback HTTP/1.1 + WebSocket proxy that misbehaves on purpose, the way
 * real intermediaries do, in front of any `http://127.0.0.1:PORT` server.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ThroughlineError } from "@throughline/wire";
import { REAL_CLOCK } from "./clock.js";
import { validateBehaviours } from "./describe.js";
import type { Exchange, StatsCounters } from "./exchange.js";
import { handleHttp } from "./http-path.js";
import { compilePlan } from "./plan.js";
import type { ProxyContext } from "./relay.js";
import { handleUpgrade } from "./tunnel.js";
import type { Behaviour, HostileProxy, HostileProxyOptions } from "./types.js";

/** Defaults of `HostileProxyOptions`. */
export const DEFAULT_HOSTILE_PROXY_OPTIONS: Required<HostileProxyOptions> = Object.freeze({
  clock: REAL_CLOCK,
  random: Math.random,
});

function parseTarget(target: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ThroughlineError("TL_INVALID_OPTION", `the proxy target must be a URL like http://127.0.0.1:8080 (got ${JSON.stringify(target)}).`);
  }
  if (url.protocol !== "http:") {
    throw new ThroughlineError("TL_INVALID_OPTION", `the proxy target must be an http:// URL (got ${JSON.stringify(target)}).`);
  }
  // URL keeps IPv6 literals in brackets (http.request wants them bare) and drops a default :80.
  return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || 80) };
}

/**
 * Starts a hostile proxy on `127.0.0.1` (a free port) in front of `target`.
 * @param target the upstream, `http://host:port` (any path is ignored: the request's path is kept)
 * @param behaviour one behaviour or several, applied in order (the first nearest the upstream)
 * @throws ThroughlineError TL_INVALID_OPTION for a bad target or behaviour
 */
export async function startHostileProxy(target: string, behaviour: Behaviour | readonly Behaviour[], options: HostileProxyOptions = {}): Promise<HostileProxy> {
  const { host, port: targetPort } = parseTarget(target);
  const plan = compilePlan(validateBehaviours(behaviour));
  const opts = { ...DEFAULT_HOSTILE_PROXY_OPTIONS, ...options };
  const stats: StatsCounters = { requests: 0, upgrades: 0, cuts: 0 };
  const exchanges = new Set<Exchange>();
  const sockets = new Set<Socket>();
  let closing = false;

  const ctx: ProxyContext = {
    host,
    port: targetPort,
    plan,
    clock: opts.clock,
    random: opts.random,
    stats,
    register(ex) {
      exchanges.add(ex);
      ex.onDispose(() => exchanges.delete(ex));
    },
  };

  const server = createServer((req, res) => {
    if (closing) return void req.socket.destroy();
    handleHttp(ctx, req, res);
  });
  // Without an 'upgrade' listener Node hands upgrade requests to the request handler as plain
  // HTTP, which is exactly what a proxy that does not speak WebSocket does.
  if (!plan.upgradesAsHttp) {
    server.on("upgrade", (req, socket: Socket, head: Buffer) => {
      if (closing) return void socket.destroy();
      handleUpgrade(ctx, req, socket, head);
    });
  }
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_err, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const ex of [...exchanges]) ex.abort();
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
