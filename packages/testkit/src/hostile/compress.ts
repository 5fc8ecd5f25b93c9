/**
 * The compress behaviour: a proxy that gzips responses and only flushes its compressor after a
 * full block of input, so small events sit inside the compressor (misconfigured `gzip on`).
 */
import { constants, createGzip } from "node:zlib";
import type { Emit, ResponseEvent } from "./events.js";
import { headerValue, withoutHeaders } from "./events.js";
import type { Exchange } from "./exchange.js";

/** Default `blockBytes` of the compress behaviour (nginx's default gzip buffers are 32 × 4 KB; 8 KB shows the effect with small streams). */
export const DEFAULT_COMPRESS_BLOCK_BYTES = 8192;

function acceptsGzip(ex: Exchange): boolean {
  return /\bgzip\b/i.test(headerValue(ex.request.headers, "accept-encoding") ?? "");
}

/** Gzips the body when the client accepts gzip and the upstream did not encode it already. */
export function compressStage(blockBytes: number, ex: Exchange, next: Emit<ResponseEvent>): Emit<ResponseEvent> {
  let gzip: ReturnType<typeof createGzip> | undefined;
  let pending = 0;
  return (event) => {
    if (event.type === "head") {
      const head = event.head;
      const encoded = headerValue(head.headers, "content-encoding") !== undefined;
      const bodyless = ex.request.method === "HEAD" || head.status === 204 || head.status === 304 || head.status < 200;
      if (!acceptsGzip(ex) || encoded || bodyless) return next(event);
      gzip = createGzip();
      const z = gzip;
      z.on("data", (chunk: Buffer) => next({ type: "data", chunk }));
      z.on("end", () => next({ type: "end" }));
      // A zlib error here would be a bug in this file; abort rather than send a corrupt body.
      z.on("error", () => ex.abort());
      ex.onDispose(() => z.destroy());
      const headers = withoutHeaders(head.headers, ["content-length"]);
      headers.push(["Content-Encoding", "gzip"]);
      return next({ type: "head", head: { ...head, headers } });
    }
    if (!gzip) return next(event);
    if (event.type === "end") {
      gzip.end();
      return;
    }
    gzip.write(event.chunk);
    pending += event.chunk.length;
    if (pending >= blockBytes) {
      pending = 0;
      gzip.flush(constants.Z_SYNC_FLUSH);
    }
  };
}
