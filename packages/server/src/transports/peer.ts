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
  /**
   * Writes complete, unmasked WebSocket frames (header + payload, built once per publish and
   * shared by every socket) straight to the connection, as `send` would have framed them.
   * Returns `false`, writing nothing, when it cannot now (compression negotiated, the library's
   * own queue busy): the caller then uses `send`. Absent where the runtime frames itself (Bun, Deno).
   */
  sendFrames?(frames: Buffer, flushed?: () => void): boolean;
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

/** The `ws` internals `sendFrames` relies on (ws 8: lib/websocket.js, lib/sender.js). */
interface WsInternals {
  _socket?: { write(data: Buffer, cb?: () => void): boolean; destroyed: boolean };
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: unknown; _queue?: unknown[]; _firstFragment?: unknown };
}

/**
 * The raw socket of a `ws` WebSocket when writing frames to it directly is what `ws.send` would
 * do (no extension negotiated, checked once: `noExtensions`): open, and the Sender idle (state
 * DEFAULT = 0, empty queue, not in a fragmented message), so nothing `ws` holds can be overtaken.
 * `undefined` otherwise, including for a `ws` whose internals do not look like ws 8's (then every
 * frame goes through `send`).
 */
function rawSocket(ws: WsSocket): WsInternals["_socket"] {
  const w = ws as unknown as WsInternals;
  const sender = w._sender;
  if (ws.readyState !== WsSocket.OPEN || sender === undefined || w._socket === undefined || w._socket.destroyed) return undefined;
  if (sender._state !== 0 || !Array.isArray(sender._queue) || sender._queue.length !== 0 || sender._firstFragment !== true) return undefined;
  return w._socket;
}

/** Whether a `ws` socket negotiated no extension (fixed once the handshake is done: checked once per socket). */
function noExtensions(ws: WsSocket): boolean {
  const ext = (ws as unknown as WsInternals)._extensions;
  return ext !== undefined && Object.keys(ext).length === 0;
}

/** The peer's events on its `ws` socket; the listeners below are shared, one set per process. */
const kEvents = Symbol("throughline.peerEvents");
type WsWithEvents = WsSocket & { [kEvents]?: PeerEvents };

// One function per event for every socket (`this` is the socket): no closures per connection.
function onWsMessage(this: WsWithEvents, data: unknown): void {
  this[kEvents]?.message(text(data as Buffer));
}
function onWsClose(this: WsWithEvents): void {
  this[kEvents]?.close();
}
function onWsPong(this: WsWithEvents): void {
  this[kEvents]?.pong();
}
// Errors are followed by 'close'; without a listener they would crash the process.
function ignoreError(): void {}

/** A `ws` socket (Node): one object per connection, its methods on the prototype. */
class WsPeer implements PeerSocket {
  /** No permessage-deflate (or other extension): frames may be written raw. */
  readonly #plain: boolean;

  constructor(private readonly ws: WsWithEvents) {
    ws.on("error", ignoreError);
    this.#plain = noExtensions(ws);
  }

  get open(): boolean {
    return this.ws.readyState === WsSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendFrames(frames: Buffer, flushed?: () => void): boolean {
    const socket = this.#plain ? rawSocket(this.ws) : undefined;
    if (socket === undefined) return false;
    if (flushed) socket.write(frames, flushed);
    else socket.write(frames);
    return true;
  }

  send(data: string | Buffer, flushed?: () => void): void {
    if (flushed) this.ws.send(data, TEXT, flushed);
    else this.ws.send(data, TEXT);
  }

  ping(): void {
    this.ws.ping();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  listen(events: PeerEvents): void {
    this.ws[kEvents] = events;
    this.ws.on("message", onWsMessage);
    this.ws.on("close", onWsClose);
    this.ws.on("pong", onWsPong);
  }
}

/** A `ws` socket (Node). A Buffer goes out as is in a text frame: no per-socket re-encoding. */
export function wsPeer(ws: WsSocket): PeerSocket {
  return new WsPeer(ws);
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

/**
 * The parts of the standard (WHATWG) `WebSocket` a server-side socket has, e.g. the `socket` of
 * Deno's `Deno.upgradeWebSocket`: events as `on*` properties, no protocol ping.
 */
export interface StandardSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A standard server-side `WebSocket` (Deno). The API has no ping: liveness rests on the client's
 * own heartbeat frames (`@throughline/client` sends one every `heartbeatMs`) and on the runtime's
 * keep-alive (Deno pings by itself, its `idleTimeout`). `close` only takes 1000 and 3000–4999 (and
 * a reason of at most 123 bytes): anything else closes with 1000, the code having gone out in the
 * JSON close frame before (see `sendClose`).
 */
export function standardPeer(ws: StandardSocketLike): PeerSocket {
  ws.binaryType = "arraybuffer";
  return {
    get open() {
      return ws.readyState === 1;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (data, flushed) => {
      // A Uint8Array would go out as a binary frame: Throughline's frames are text.
      ws.send(typeof data === "string" ? data : data.toString("utf8"));
      if (flushed) queueMicrotask(flushed);
    },
    ping: () => {},
    close: (code, reason) => {
      try {
        ws.close(code, reason);
      } catch {
        ws.close(1000);
      }
    },
    terminate: () => ws.close(1000),
    listen: (ev) => {
      ws.onmessage = (e) => ev.message(text(e.data as string | ArrayBuffer));
      ws.onclose = () => ev.close();
      ws.onerror = () => {};
    },
  };
}

export { text as peerText };
