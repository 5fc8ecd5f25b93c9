/**
 * Frees node:http's HTTP parser under an open SSE stream, and gives the connection a fresh one
 * when the stream ends. node:http keeps a parser per connection for the next request on it (its
 * native llhttp state alone is ~2 KB); an SSE response holds the connection until it ends, so
 * that parser idles as long: about 2.5 KB of RSS per idle stream, a sixth of its cost. node:http
 * frees it itself for a WebSocket upgrade; a streaming GET has no such path, so this does the
 * same steps:
 * - once the request is fully parsed, the parser goes back to node's pool and node's socket
 *   listeners that drive it are replaced by three shared ones: bytes the client sends meanwhile
 *   are kept (a browser sends none; a pipelined request is parsed later, bounded by
 *   `HELD_BYTES`), a client that half-closes is closed as node:http does, and the request's
 *   'close' still fires when the connection goes;
 * - when the stream ends on a connection that stays open (keep-alive), the socket is handed back
 *   to node:http's connection listener: a new parser, node's listeners, keep-alive as before.
 *
 * There is no public API for this: it uses `_http_common.freeParser`,
 * `_http_server._connectionListener` and the names of node:http's socket listeners, and does
 * nothing (the parser stays, as before) unless each is as expected: other runtimes, Node before
 * 20.16 (no `process.getBuiltinModule`) or with other internals, a request that is not
 * complete, a connection that is not node:http's.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Bytes a client may send while its stream is open (kept for the next request); beyond, it is cut. */
export const HELD_BYTES = 64 * 1024;

interface Internals {
  freeParser(parser: unknown, req: IncomingMessage | null, socket: Socket): void;
  connectionListener(this: Server, socket: Socket): void;
}

let internals: Internals | null | undefined;

/** node:http's internals, or `null` where they are not what this was written against. */
function load(): Internals | null {
  if (internals !== undefined) return internals;
  internals = null;
  try {
    // `process.getBuiltinModule` (Node ≥ 20.16): no static import, the same in the ESM and CJS builds.
    const builtin = (globalThis.process as { getBuiltinModule?: (id: string) => unknown } | undefined)?.getBuiltinModule;
    const common = builtin?.("_http_common") as { freeParser?: unknown } | undefined;
    const server = builtin?.("_http_server") as { _connectionListener?: unknown } | undefined;
    if (typeof common?.freeParser === "function" && typeof server?._connectionListener === "function") {
      internals = { freeParser: common.freeParser as Internals["freeParser"], connectionListener: server._connectionListener as Internals["connectionListener"] };
    }
  } catch {
    // Not node's node:http (Bun, Deno): keep the parser.
  }
  return internals;
}

type Listener = (...args: unknown[]) => void;

/** The one listener of `event` whose name is `name` (node's own, bound or not), if exactly one. */
function nodeListener(socket: Socket, event: string, name: string): Listener | undefined {
  const found = (socket.listeners(event) as Listener[]).filter((fn) => fn.name === name);
  return found.length === 1 ? found[0] : undefined;
}

/** node:http's per-connection listeners, by event: all must be found to release. */
const DRIVING = [
  ["data", "bound socketOnData"],
  ["end", "bound socketOnEnd"],
  ["close", "bound socketOnClose"],
] as const;

/** The rest of node:http's connection listeners: all removed before a fresh connection listener adds them again. */
const REST = [
  ["error", "socketOnError"],
  ["drain", "bound socketOnDrain"],
  ["timeout", "socketOnTimeout"],
  ["resume", "onSocketResume"],
  ["pause", "onSocketPause"],
] as const;

const HELD = Symbol("throughline.heldBytes");
type ReleasedSocket = Socket & { parser?: unknown; server?: Server; _httpMessage?: ServerResponse | null; [HELD]?: Buffer[] };

/**
 * Releases the parser of `req`'s connection once the current parse is over (never from inside
 * it). A no-op wherever a precondition does not hold.
 */
export function releaseParserLater(req: IncomingMessage, res: ServerResponse): void {
  if (req.httpVersionMajor !== 1 || !load()) return;
  setImmediate(release, req, res);
}

function release(req: IncomingMessage, res: ServerResponse): void {
  const fns = load();
  const socket = req.socket as ReleasedSocket | null;
  const parser = socket?.parser as { incoming?: unknown } | null | undefined;
  // Only a complete request whose response is this stream, still open, with nothing queued after it.
  if (!fns || !socket?.server || !parser || parser.incoming !== req || !req.complete || socket._httpMessage !== res || res.writableEnded || socket.destroyed) return;
  const driving = DRIVING.map(([event, name]) => nodeListener(socket, event, name));
  if (driving.some((fn) => fn === undefined)) return;
  DRIVING.forEach(([event], i) => socket.removeListener(event, driving[i]!));
  fns.freeParser(parser, req, socket);
  socket.on("data", hold);
  socket.on("end", halfClosed);
  socket.on("close", closed);
  res.on("finish", streamEnded);
}

/** Keeps what the client sends during the stream, for the parser it gets afterwards. */
function hold(this: ReleasedSocket, chunk: Buffer): void {
  const held = (this[HELD] ??= []);
  held.push(chunk);
  if (held.reduce((n, b) => n + b.length, 0) > HELD_BYTES) this.destroy();
}

/** The client ended its side: node:http (without `httpAllowHalfOpen`) ends ours too. */
function halfClosed(this: ReleasedSocket): void {
  const res = this._httpMessage as (ServerResponse & { _last?: boolean }) | null | undefined;
  if ((this.server as { httpAllowHalfOpen?: boolean } | undefined)?.httpAllowHalfOpen && res) res._last = true;
  else this.end();
}

/** The connection went: the open request is destroyed, as node:http does ('aborted', 'close'). */
function closed(this: ReleasedSocket): void {
  const req = this._httpMessage?.req;
  if (req && !req.destroyed) req.destroy();
}

/**
 * The stream ended (node:http has detached it and, for a last response, is closing the
 * connection): a connection kept alive gets a parser again, with what the client sent meanwhile.
 */
function streamEnded(this: ServerResponse): void {
  const socket = this.req?.socket as ReleasedSocket | null | undefined;
  const fns = load();
  if (!socket || !fns || !socket.listeners("close").includes(closed)) return;
  socket.removeListener("data", hold);
  socket.removeListener("end", halfClosed);
  socket.removeListener("close", closed);
  const held = socket[HELD];
  socket[HELD] = undefined;
  if ((this as { _last?: boolean })._last || socket.destroyed) return;
  const rest = REST.map(([event, name]) => nodeListener(socket, event, name));
  // A half-closed client, a server that is closing (node:http closes idle connections then), or
  // listeners not as expected (a fresh connection listener would double them): no keep-alive.
  if (!socket.readable || !socket.writable || !socket.server?.listening || rest.some((fn) => fn === undefined)) {
    socket.end();
    return;
  }
  REST.forEach(([event], i) => socket.removeListener(event, rest[i]!));
  fns.connectionListener.call(socket.server, socket);
  // After this turn: the bytes go to the new parser as if they had just arrived.
  if (held) process.nextTick(() => socket.unshift(Buffer.concat(held)));
}
