/**
 * A plain (non-Throughline) SSE server for the facade's tests: request n is answered by
 * `scripts[n]` (the last one repeats). Real loopback sockets; records every request's headers.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Script = (req: IncomingMessage, res: ServerResponse) => void;

export interface PlainServer {
  readonly url: string;
  readonly requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A script writing `body` as `text/event-stream` (or `type`), then ending (or holding if `hold`). */
export const stream = (body: string | Uint8Array, opts: { type?: string; status?: number; hold?: boolean } = {}): Script => (_req, res) => {
  res.writeHead(opts.status ?? 200, { "content-type": opts.type ?? "text/event-stream", "cache-control": "no-cache" });
  res.write(body);
  if (!opts.hold) res.end();
};

export async function startPlainServer(scripts: Script[]): Promise<PlainServer> {
  const requests: IncomingHttpHeaders[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const script = scripts[Math.min(requests.length, scripts.length - 1)]!;
    requests.push(req.headers);
    open.add(res);
    res.on("close", () => open.delete(res));
    script(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
