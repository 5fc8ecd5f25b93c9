/**
 * A Throughline server on a real loopback socket, restartable on the same port, for the
 * conformance suite, the hostile-network scenarios and benchmarks.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";

export interface TestServer {
  /** The current hub (a new one after `restart()`). */
  readonly rt: ThroughlineServer;
  readonly port: number;
  /** Base URL of the Throughline path, e.g. `http://127.0.0.1:PORT/realtime`. */
  readonly url: string;
  /** Client→server messages received by the current hub, in order. */
  readonly received: unknown[];
  /** Stops the hub and its http server (clients see 1001), then starts a fresh hub on the same port. */
  restart(): Promise<void>;
  /** Stops only (idempotent). */
  close(): Promise<void>;
}

/** A server that is not a node:http one (e.g. `Bun.serve`): listens on a port, closes. */
export interface Listener {
  /** Listens on `port` (0: any) of 127.0.0.1; resolves with the port. */
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Puts a hub on a server (not yet listening). The default attaches it to node:http; others
 * serve it through another adapter (the Fetch handler under `@hono/node-server` or `Bun.serve`).
 */
export type Mount = (rt: ThroughlineServer) => Server | Listener;

function isListener(s: Server | Listener): s is Listener {
  return !("address" in s);
}

/** The default mount: `rt.attach()` on a plain node:http server. */
export const NODE_HTTP_MOUNT: Mount = (rt) => {
  const http = createHttpServer((_req, res) => {
    res.statusCode = 404;
    res.end("not throughline");
  });
  rt.attach(http);
  return http;
};

/** Test-friendly defaults: short heartbeats and holds so failures show quickly. */
export const TEST_SERVER_OPTIONS: ServerOptions = Object.freeze({
  heartbeatMs: 1_000,
  longPollHoldMs: 1_000,
  retryMs: 50,
});

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export async function startTestServer(options: ServerOptions = {}, mount: Mount = NODE_HTTP_MOUNT): Promise<TestServer> {
  const opts = { ...TEST_SERVER_OPTIONS, ...options };
  let http: Server | Listener;
  let rt: ThroughlineServer;
  let received: unknown[] = [];
  let closed = false;

  const start = async (port: number) => {
    received = [];
    const sink = received;
    rt = createServer(opts);
    rt.on("message", (data) => sink.push(data));
    http = mount(rt);
    return isListener(http) ? http.listen(port) : listen(http, port);
  };

  const stop = async () => {
    await rt.close();
    await (isListener(http) ? http.close() : closeHttp(http));
  };

  const port = await start(0);
  const url = `http://127.0.0.1:${port}${rt!.path}`;
  return {
    get rt() {
      return rt;
    },
    get received() {
      return received;
    },
    port,
    url,
    async restart() {
      await stop();
      // The port was ours a moment ago; on loopback it is free again at once.
      await start(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
    },
  };
}
