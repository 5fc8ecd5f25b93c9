/**
 * WebSocket: one JSON frame per text message both ways. The server's close codes arrive natively;
 * client heartbeats every `heartbeatMs` let the server detect a dead client behind NAT timeouts.
 */
import { DEV, ROUTES, ThroughlineError, buildUrl, decodeServerFrame } from "@throughline/wire";
import { withTicket } from "../auth.js";
import { encodeClientFrames } from "../http.js";
import type { WebSocketLike } from "../options.js";
import { abnormal, connectionLost, type CloseInfo, type Transport, type TransportFactory } from "../transport.js";

/** The probe sequence number the client uses for its WebSocket round trip. */
export const WS_PROBE_SEQ = 1;

const OPEN = 1;

/** The WebSocket transport: `GET P/ws` + Upgrade. */
export const webSocketTransport: TransportFactory = (ctx, h) => {
  let ws: WebSocketLike | undefined;
  let closed = false;
  let opened = false;
  let heartbeat: unknown;

  // (Clearing a timer that already ran or was cleared is a no-op: the handle can stay.)
  const stopHeartbeat = () => {
    if (heartbeat !== undefined) ctx.clock.clearTimeout(heartbeat);
  };
  const startHeartbeat = (ms: number) => {
    stopHeartbeat();
    if (!(ms > 0)) return;
    const beat = () => {
      if (closed) return;
      try {
        // (The hello on `ws` started the heartbeat: `ws` is set.)
        if (ws!.readyState === OPEN) ws!.send(JSON.stringify({ type: "heartbeat", time: ctx.clock.now() }));
      } catch {
        // The close event reports a broken socket.
      }
      heartbeat = ctx.clock.setTimeout(beat, ms);
    };
    heartbeat = ctx.clock.setTimeout(beat, ms);
  };

  const finish = (info: CloseInfo) => {
    if (closed) return;
    closed = true;
    stopHeartbeat();
    try {
      if (ws) ws.close();
    } catch {
      // Already closing.
    }
    h.close(info);
  };

  const fail = (error: ThroughlineError) => finish(abnormal(error));

  return {
    open() {
      // With credentials, the token is first traded for a one-use ticket (see auth.ts).
      withTicket(ctx, () => closed, finish, (ticket) => {
        // (Called asynchronously: handlers are never called synchronously from open().)
        const WS = ctx.WebSocket;
        // (A constructor or none: options.ts checked it.)
        if (!WS) return fail(new ThroughlineError("TL_NO_WEBSOCKET", DEV ? "no WebSocket: pass the WebSocket option (Node 20: use @throughline/client/node)." : ""));
        try {
          // wire's toWebSocketUrl for a URL that buildUrl serialized (its scheme is "http" or
          // "https", lowercase): "http" becomes "ws", so https: becomes wss:.
          ws = new WS(
            "ws" +
              buildUrl(ctx.url, ROUTES.websocket, {
                topics: ctx.topics.join(),
                session: ctx.session,
                propose: ctx.propose ? "1" : undefined,
                cursor: ctx.cursor,
                ticket,
              }).slice(4),
          );
        } catch (cause) {
          return fail(new ThroughlineError("TL_CONNECT_FAILED", DEV ? "the WebSocket could not be created." : "", { cause }));
        }
        ws.onopen = () => {
          if (!closed) h.opened();
        };
        ws.onmessage = (ev: { data: unknown }) => {
          if (closed) return;
          h.chunk();
          if (typeof ev.data !== "string") return fail(new ThroughlineError("TL_BAD_FRAME", DEV ? "a binary WebSocket message is not a Throughline frame." : "binary"));
          let f;
          try {
            f = decodeServerFrame(ev.data);
          } catch (error) {
            return fail(error as ThroughlineError);
          }
          if (f.type === "hello") {
            opened = true;
            startHeartbeat(f.heartbeatMs);
          }
          h.frame(f);
        };
        // Kept set for the socket's whole life: `ws` throws on an "error" nobody listens to. The
        // close event that follows carries the outcome.
        ws.onerror = () => {};
        ws.onclose = (ev: { code?: number; reason?: string }) => {
          if (closed) return;
          const code = typeof ev.code === "number" ? ev.code : 1006;
          // 1005 (no status) and 1006 mean the socket just went away: no server decision.
          if (code === 1005 || code === 1006 || (!opened && code < 4000)) {
            return finish(opened
              ? connectionLost(DEV ? "the WebSocket closed without a close frame." : "WebSocket")
              : abnormal(new ThroughlineError("TL_CONNECT_FAILED", DEV ? `the WebSocket could not connect (close ${code}).` : `${code}`)));
          }
          finish({ code, reason: String(ev.reason ?? "") });
        };
      });
    },
    async send(frames) {
      if (closed || !ws || ws.readyState !== OPEN) throw new ThroughlineError("TL_SEND_FAILED", DEV ? "the WebSocket is not open." : "");
      // One frame per message; TL_BAD_DATA if one cannot be serialized (nothing is sent then).
      const texts = frames.map((f) => encodeClientFrames([f]));
      try {
        for (const t of texts) ws.send(t);
      } catch (cause) {
        throw new ThroughlineError("TL_SEND_FAILED", DEV ? "the WebSocket refused the message." : "", { cause });
      }
    },
    close(code) {
      if (closed) return;
      closed = true;
      stopHeartbeat();
      try {
        // Without a code, `undefined` is no argument (WebIDL; `ws` alike): a plain close.
        if (ws) ws.close(code);
      } catch {
        // Invalid state: the socket is going away anyway.
      }
    },
  };
};

/**
 * WebSocket as a transport value. Proof: after the hello, a client probe answered by the server
 * (a round trip: a proxy that passes the 101 and then nothing, or one direction only, fails).
 */
export const websocket: Transport = /* @__PURE__ */ Object.freeze<Transport>({
  name: "websocket",
  create: webSocketTransport,
  proof: {
    hello(link) {
      link.send([{ type: "probe", seq: WS_PROBE_SEQ }]).catch(() => {});
      return undefined;
    },
    probe: (f) => (f.seq === WS_PROBE_SEQ ? "probe round trip" : undefined),
  },
  stream: true,
});
