/**
 * The conformance suite under Bun (`bun test`, which runs vitest-style files), with the server
 * served by `Bun.serve({ fetch: rt.fetch, websocket: bunWebSocket })`: the Fetch handler on a
 * non-Node runtime, WebSocket through Bun's `server.upgrade`. Run by
 * `scripts/bun-conformance.sh` with the Bun binary of the `@oven/bun-linux-x64` npm package.
 * Not part of `npm test` (vitest does not include this folder): Bun provides the globals.
 */
import { bunWebSocket } from "@throughline/server";
import type { Listener, Mount } from "@throughline/testkit";
import { describeConformance } from "@throughline/testkit/conformance";

declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    idleTimeout?: number;
    websocket?: typeof bunWebSocket;
    fetch: (request: Request, server: { requestIP(request: Request): { address: string } | null }) => Promise<Response>;
  }): { readonly port: number; stop(closeActive?: boolean): Promise<void> | void };
};

const BUN_MOUNT: Mount = (rt): Listener => {
  let server: ReturnType<typeof Bun.serve> | undefined;
  return {
    async listen(port) {
      // idleTimeout 0: Bun closes connections idle for 10 s by default, streams included.
      server = Bun.serve({ port, hostname: "127.0.0.1", idleTimeout: 0, fetch: rt.fetch, websocket: bunWebSocket });
      return server.port;
    },
    async close() {
      await server?.stop(true);
    },
  };
};

describeConformance("sse", { label: "Bun.serve + rt.fetch", mount: BUN_MOUNT });
describeConformance("long-poll", { label: "Bun.serve + rt.fetch", mount: BUN_MOUNT });
describeConformance("websocket", { label: "Bun.serve + rt.fetch (server.upgrade)", mount: BUN_MOUNT });
