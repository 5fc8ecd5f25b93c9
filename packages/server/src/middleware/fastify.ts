/**
 * Fastify: a plugin with catch-all routes for the path that hand the raw node objects to
 * Throughline (`reply.hijack()`: Fastify writes nothing after us). Inside the plugin no body is
 * parsed, so `POST …/send` reads its own bounded body. It also takes the server's WebSocket
 * upgrades for the path. `await app.register(fastifyPlugin(rt))`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { ThroughlineServer } from "../server.js";

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  readonly server: {
    on(event: "upgrade", fn: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
    listenerCount(event: "upgrade"): number;
  };
  removeAllContentTypeParsers(): unknown;
  addContentTypeParser(type: string, fn: (req: unknown, payload: unknown, done: (err: Error | null, body?: unknown) => void) => void): unknown;
  all(path: string, options: object, handler: (req: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): unknown }) => void): unknown;
}

export function fastifyPlugin(rt: ThroughlineServer): (instance: FastifyInstanceLike) => Promise<void> {
  return async (instance) => {
    // Encapsulated to this plugin: the body stays unread for Throughline's own bounded reader.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser("*", (_req, _payload, done) => done(null));
    const handler = (req: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): unknown }) => {
      reply.hijack();
      if (!rt.handle(req.raw, reply.raw)) {
        reply.raw.statusCode = 404;
        reply.raw.end();
      }
    };
    instance.all(rt.path || "/", {}, handler);
    instance.all(`${rt.path}/*`, {}, handler);
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Not ours and nobody else listens: end it rather than leave it hanging.
      if (!rt.handleUpgrade(req, socket, head) && instance.server.listenerCount("upgrade") === 1) socket.destroy();
    };
    instance.server.on("upgrade", upgrade);
  };
}
