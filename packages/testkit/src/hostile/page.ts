/**
 * Responses the proxy makes up itself. They look like a proxy's (an HTML page, a `Server`
 * header) and never carry `x-throughline`, which is how a client tells them from the application.
 */
import type { Emit, ResponseEvent, ResponseHead } from "./events.js";

const REASONS: Record<number, string> = { 403: "Forbidden", 502: "Bad Gateway" };

/** Emits a complete HTML error response (head, body, end). */
export function emitProxyPage(status: number, detail: string, next: Emit<ResponseEvent>): void {
  const reason = REASONS[status] ?? "Error";
  const body = Buffer.from(
    `<!DOCTYPE html>\n<html><head><title>${status} ${reason}</title></head>\n` +
      `<body><h1>${status} ${reason}</h1><p>${detail}</p><hr><address>hostile-proxy</address></body></html>\n`,
  );
  const head: ResponseHead = {
    status,
    statusMessage: reason,
    headers: [
      ["Server", "hostile-proxy"],
      ["Content-Type", "text/html; charset=utf-8"],
      ["Content-Length", String(body.length)],
      ["Cache-Control", "no-store"],
    ],
  };
  next({ type: "head", head });
  next({ type: "data", chunk: body });
  next({ type: "end" });
}
