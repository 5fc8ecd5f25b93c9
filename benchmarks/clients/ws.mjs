/**
 * Raw WebSocket subscribers (clients/lean-ws.mjs by default, or `ws`; no per-message parsing beyond what each protocol needs to
 * stay connected): plain for the raw `ws` server, Throughline's JSON frames (probe answered, a
 * heartbeat every `heartbeatMs` of the hello, as the official client), and Engine.IO v4 /
 * Socket.IO v5 for Socket.IO's websocket transport (open → "40", ping "2" → pong "3"), so every
 * WebSocket system is read by the same cheap client.
 */
import { WebSocket } from "ws";
import { LeanWebSocket } from "./lean-ws.mjs";

const OPTS = { perMessageDeflate: false };

/**
 * The WebSocket client the load clients use: `lean` (clients/lean-ws.mjs, the default: a socket
 * read scanned for frames in place) or `ws` (`BENCH_WS_CLIENT=ws`, the `ws` package's client, as
 * before 2026-12-06). The same for every WebSocket system.
 */
export const WS_CLIENT = process.env.BENCH_WS_CLIENT === "ws" ? "ws" : "lean";

/**
 * @param {"raw" | "throughline" | "socketio"} flavor
 * @param {string} url ws:// URL
 * @param {(text: string) => void} deliver
 * @param {() => void} onClose
 * @param {string} [localAddress] source address (spreads many connections over several, see scenarios/scale.mjs)
 * @returns {Promise<{ close(): void }>} once the connection is usable (for Socket.IO: namespace joined; Throughline: hello)
 */
export function openWs(flavor, url, deliver, onClose, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = WS_CLIENT === "lean" ? new LeanWebSocket(url, { localAddress }) : new WebSocket(url, localAddress ? { ...OPTS, localAddress } : OPTS);
    const conn = { close: () => ws.terminate() };
    let ready = false;
    const ok = () => {
      if (!ready) {
        ready = true;
        resolve(conn);
      }
    };
    ws.on("error", (err) => {
      if (!ready) reject(err);
    });
    ws.on("close", () => {
      if (!ready) reject(new Error("closed before ready"));
      onClose();
    });
    if (flavor === "raw") {
      ws.on("open", ok);
      ws.on("message", (data) => deliver(data.toString()));
    } else if (flavor === "throughline") {
      let beat;
      ws.on("close", () => clearInterval(beat));
      ws.on("message", (data) => {
        const text = data.toString();
        // Frames start with {"type":"<type>" (encodeFrame keeps the key order).
        if (text.startsWith('{"type":"message"')) deliver(text);
        else if (text.startsWith('{"type":"hello"')) {
          // As @throughline/client: a heartbeat every heartbeatMs on the client's own timer (not
          // an answer to the server's, which would put 1 000 replies on the server at its tick).
          const ms = Number(/"heartbeatMs":(\d+)/.exec(text)?.[1]);
          if (ms > 0) beat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(`{"type":"heartbeat","time":${Date.now()}}`), ms).unref();
          ok();
        } else if (text.startsWith('{"type":"probe"')) {
          const seq = /"seq":(\d+)/.exec(text)?.[1];
          if (seq) ws.send(`{"type":"probe","seq":${seq}}`);
        }
      });
    } else {
      ws.on("message", (data) => {
        const text = data.toString();
        const c = text.charCodeAt(0);
        if (c === 52 /* 4: message */) {
          if (text.charCodeAt(1) === 50 /* 2: event */) deliver(text);
          else if (text.charCodeAt(1) === 48 /* 0: connect ack */) ok();
        } else if (c === 50 /* 2: ping */) ws.send("3");
        else if (c === 48 /* 0: open */) ws.send("40");
      });
    }
  });
}
