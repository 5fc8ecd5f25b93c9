/**
 * What the WebSocket transport needs of a socket, whatever the runtime: `ws` on Node, Bun's
 * `ServerWebSocket` (a runtime with the standard server-side `WebSocket` fits the same contract).
 */
import { WebSocket as WsSocket } from "ws";

/** A socket's events, wired to one connection. */
export interface PeerEvents {
  message(text: string): void;
  close(): void;
  pong(): void;
}

export interface PeerSocket {
  readonly open: boolean;
  /** Bytes queued and not yet sent. */
  readonly bufferedAmount: number;
  /**
   * Sends a text frame. `flushed` runs once it left the process' buffer; where the runtime cannot
   * tell (Bun), at once: only `bufferedAmount` then bounds a slow reader.
   */
  send(data: string | Buffer, flushed?: () => void): void;
  /** A protocol ping (answered by the peer's WebSocket implementation); a no-op where there is none. */
  ping(): void;
  close(code: number, reason: string): void;
  /** Ends without a closing handshake (a dead peer). */
  terminate(): void;
  /** Wires the socket's events (called once). */
  listen(events: PeerEvents): void;
}

/** `ws.send` options for a text frame; one object, not one per delivery. */
const TEXT = Object.freeze({ binary: false });

const decoder = new TextDecoder();

function text(data: Buffer | ArrayBuffer | Buffer[] | Uint8Array | string): string {
  if (typeof data === "string") return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return decoder.decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

/** A `ws` socket (Node). A Buffer goes out as is in a text frame: no per-socket re-encoding. */
export function wsPeer(ws: WsSocket): PeerSocket {
  ws.on("error", () => {}); // errors are followed by 'close'; without a listener they would crash the process
  return {
    get open() {
      return ws.readyState === WsSocket.OPEN;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (data, flushed) => (flushed ? ws.send(data, TEXT, flushed) : ws.send(data, TEXT)),
    ping: () => ws.ping(),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    listen: (ev) => {
      ws.on("message", (data) => ev.message(text(data as Buffer)));
      ws.on("close", () => ev.close());
      ws.on("pong", () => ev.pong());
    },
  };
}

/** The parts of Bun's `ServerWebSocket` used here. */
export interface BunSocketLike {
  readonly readyState: number;
  getBufferedAmount(): number;
  send(data: string | Uint8Array): number;
  ping(): unknown;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** Bun's `ServerWebSocket`; its events arrive through `bunWebSocket` handlers (adapters/fetch). */
export function bunPeer(ws: BunSocketLike, events: { current?: PeerEvents }): PeerSocket {
  return {
    get open() {
      return ws.readyState === 1;
    },
    get bufferedAmount() {
      return ws.getBufferedAmount();
    },
    send: (data, flushed) => {
      ws.send(typeof data === "string" ? data : data.toString("utf8"));
      if (flushed) queueMicrotask(flushed);
    },
    ping: () => void ws.ping(),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    listen: (ev) => {
      events.current = ev;
    },
  };
}

export { text as peerText };
