/**
 * A minimal WebSocket client for the load clients (RFC 6455 over a bare `net` socket): the
 * subset of `ws`'s client API that clients/ws.mjs uses (`on("open" | "message" | "close" |
 * "error")`, `send(text)`, `terminate()`, `readyState`). Why not `ws` itself: at 100 msg/s × 1,000
 * subscribers one load-client process reads 100,000 frames/s on its one core, and `ws`'s client
 * (a Writable stream per receiver, per-message events and buffers) costs more per frame, and more
 * for larger frames (benchmarks/README.md, "Load clients"). Here a socket read is scanned for
 * frames in place: one text frame per read costs a subarray.
 *
 * What it does not do, because no server under test needs it: extensions (permessage-deflate is
 * never offered), subprotocols, redirects, TLS, checking `Sec-WebSocket-Accept` (loopback only).
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { connect } from "node:net";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Client frames must be masked; the key's value does not matter to a server (loopback, no proxy to confuse). */
const MASK = randomBytes(4);

/** A masked client frame (FIN set) with `payload` (a Buffer) and `opcode`. */
function clientFrame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  MASK.copy(out, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ MASK[i & 3];
  return out;
}

export class LeanWebSocket extends EventEmitter {
  static OPEN = OPEN;
  readyState = CONNECTING;
  /** Bytes of a frame (or of the handshake answer) not complete yet. */
  #pending = null;
  /** Payload parts of a fragmented message. */
  #fragments = null;

  /**
   * @param {string} url ws:// URL
   * @param {{ localAddress?: string }} [options]
   */
  constructor(url, options = {}) {
    super();
    const u = new URL(url);
    const socket = (this.socket = connect({ host: u.hostname, port: Number(u.port || 80), localAddress: options.localAddress }));
    socket.setNoDelay(true);
    socket.on("connect", () => {
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk) => (this.readyState === CONNECTING ? this.#handshake(chunk) : this.#frames(chunk)));
    socket.on("error", (err) => this.emit("error", err));
    socket.on("close", () => {
      this.readyState = CLOSED;
      this.emit("close");
    });
  }

  #handshake(chunk) {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    const end = buf.indexOf("\r\n\r\n");
    if (end === -1) {
      this.#pending = buf;
      return;
    }
    this.#pending = null;
    const status = buf.toString("latin1", 0, buf.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101 /.test(status)) {
      this.emit("error", new Error(`upgrade refused: ${status}`));
      this.socket.destroy();
      return;
    }
    this.readyState = OPEN;
    this.emit("open");
    if (end + 4 < buf.length) this.#frames(buf.subarray(end + 4));
  }

  /** Scans `chunk` (after what was pending) for complete frames. */
  #frames(chunk) {
    let buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = null;
    let at = 0;
    while (buf.length - at >= 2) {
      const b0 = buf[at];
      let len = buf[at + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        head = 10;
      }
      // Server frames are never masked (RFC 6455 §5.1).
      if (buf.length - at < head + len) break;
      const payload = buf.subarray(at + head, at + head + len);
      at += head + len;
      this.#frame(b0 & 0x80, b0 & 0x0f, payload);
      if (this.readyState !== OPEN) return;
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
  }

  #frame(fin, opcode, payload) {
    if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
      if (!fin || this.#fragments) {
        (this.#fragments ??= []).push(Buffer.from(payload));
        if (!fin) return;
        payload = Buffer.concat(this.#fragments);
        this.#fragments = null;
      }
      this.emit("message", payload);
    } else if (opcode === 0x9) {
      this.socket.write(clientFrame(0xa, payload));
    } else if (opcode === 0x8) {
      // Answer the close with an empty close, then let the server end the TCP connection.
      this.socket.write(clientFrame(0x8, Buffer.alloc(0)));
      this.readyState = CLOSING;
      this.socket.end();
    }
    // 0xA (pong): nothing to do.
  }

  /** Sends a text frame. */
  send(text) {
    if (this.readyState === OPEN) this.socket.write(clientFrame(0x1, Buffer.from(text)));
  }

  /** Drops the connection without a closing handshake (as `ws`'s `terminate`). */
  terminate() {
    this.readyState = CLOSED;
    this.socket.destroy();
  }
}
