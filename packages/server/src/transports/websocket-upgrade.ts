/**
 * The WebSocket upgrade pipeline on node (node:http, or HTTP/1.1 under any framework): route
 * and method checks, the security gate (origin, ticket or `authenticate`, limits), then `ws`'s
 * handshake and the protocol. Refusals a browser must be able to read (bad topic, forbidden
 * topic, unknown session) are sent as a close code after the upgrade, since a browser never
 * sees the status of a refused upgrade.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { CloseCode, MARKER_HEADER, MARKER_VALUE, ROUTES, encodeFrame, httpError } from "@throughline/wire";
import { safetyTimer } from "../clock.js";
import { splitUrl, type Exchange, type Inbound } from "../exchange.js";
import { closingError, rejectUpgrade, sendError } from "../http.js";
import type { ResolvedOptions } from "../options.js";
import type { Registry } from "../registry.js";
import type { Route, Router } from "../router.js";
import { retryHeaders, type Security } from "../security.js";
import { wsPeer, type PeerSocket } from "./peer.js";
import { closeReason, openWebSocket } from "./websocket.js";

/** How long shutdown waits for WebSocket close handshakes. */
export const WS_CLOSE_GRACE_MS = 2_000;

/** The inbound view of an upgrade request (no response object exists for it). */
function inbound(req: IncomingMessage): Inbound {
  return { method: String(req.method ?? "GET"), url: req.url ?? "/", headers: req.headers, remoteAddress: req.socket?.remoteAddress, native: req };
}

export class WebSocketUpgrade {
  readonly #wss: WebSocketServer;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly registry: Registry,
    private readonly security: Security,
    private readonly router: Router,
  ) {
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxInboundBytes,
      perMessageDeflate: false,
      clientTracking: true,
    });
    this.#wss.on("headers", (headers) => headers.push(`${MARKER_HEADER}: ${MARKER_VALUE}`, "X-Content-Type-Options: nosniff"));
    this.#wss.on("error", () => {});
  }

  /** For an 'upgrade' listener; returns false (socket untouched) if not under the path. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const target = splitUrl(req.url ?? "/");
    const route = this.router.match(target.pathname);
    if (route === undefined) return false;
    const inb = inbound(req);
    const security = this.security;
    const refuse = (err: unknown) => {
      security.report(inb, err, target.pathname);
      rejectUpgrade(socket, err, retryHeaders(err));
    };
    try {
      if (route !== ROUTES.websocket) throw httpError("TL_NOT_FOUND", `no WebSocket route ${JSON.stringify(route.slice(0, 64) || "/")} under ${this.options.path || "/"}.`);
      if (!this.options.transports.has("websocket")) throw httpError("TL_TRANSPORT_DISABLED", "the websocket transport is disabled on this server.");
      if (req.method !== "GET") throw httpError("TL_METHOD_NOT_ALLOWED", "a WebSocket upgrade must be a GET.");
      if (this.registry.closed) throw closingError();
      const upgrade = () => {
        if (socket.destroyed) return security.release(inb);
        // ws drops a socket that died before the handshake without calling back: free its slot.
        // The listener goes once the handshake is done, or it would keep the request (its
        // headers, the admission) alive for the whole life of the connection.
        const dropped = () => security.release(inb);
        socket.once("close", dropped);
        this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
          socket.off("close", dropped);
          this.#open(inb, wsPeer(ws), target.query);
        });
      };
      const admitted = security.admitUpgrade(inb, target.query);
      if (admitted) {
        socket.on("error", () => socket.destroy()); // a reset while authenticating must not crash
        admitted.then(upgrade, refuse).catch(() => socket.destroy());
      } else {
        upgrade();
      }
    } catch (err) {
      refuse(err);
    }
    return true;
  }

  /**
   * After the upgrade: the protocol, or the refusal the gate recorded as a close code (a browser
   * sees the close code but never the status of a refused upgrade).
   */
  #open(inb: Inbound, peer: PeerSocket, query: URLSearchParams): void {
    try {
      if (this.registry.closed) {
        peer.close(CloseCode.GOING_AWAY, "server shutting down");
        return;
      }
      const refusal = this.security.refusalOf(inb);
      if (refusal) {
        peer.send(encodeFrame({ type: "close", code: refusal.code, reason: refusal.reason }));
        peer.close(refusal.code, closeReason(refusal.reason));
        return;
      }
      this.security.within(inb, () => openWebSocket(this.registry, peer, query));
    } catch {
      peer.terminate();
    }
  }

  /**
   * `GET …/ws` as an exchange (the Fetch adapter): upgraded where the runtime can (same gate as
   * on Node), else 426 TL_UPGRADE_REQUIRED.
   */
  route(): Route {
    return {
      method: "GET",
      transport: "websocket",
      handle: (ex, query) => {
        const upgradeRequired = () => sendError(ex, httpError("TL_UPGRADE_REQUIRED", "this route needs a WebSocket upgrade."), { upgrade: "websocket" });
        const wantsUpgrade = String(ex.headers.upgrade ?? "").toLowerCase() === "websocket";
        if (!wantsUpgrade || !ex.upgradeWebSocket) return upgradeRequired();
        if (this.registry.closed) throw closingError();
        const go = () => {
          if (ex.gone) return this.security.release(ex);
          const peer = ex.upgradeWebSocket?.();
          if (!peer) {
            // This runtime has no upgrade API after all (e.g. a Fetch handler outside Bun).
            this.security.release(ex);
            return upgradeRequired();
          }
          peer.then((p) => this.#open(ex, p, query), () => this.security.release(ex));
        };
        const admitted = this.security.admitUpgrade(ex, query);
        return admitted ? admitted.then(go) : go();
      },
    };
  }

  /** Closes every socket (1001, bounded by the grace period), then the ws server. */
  async close(reason: string): Promise<void> {
    const sockets = [...this.#wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = safetyTimer(() => {
              ws.terminate();
              resolve();
            }, WS_CLOSE_GRACE_MS);
            ws.once("close", () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(CloseCode.GOING_AWAY, reason);
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
