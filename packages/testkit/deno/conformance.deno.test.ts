/**
 * The conformance suite under Deno, with the server served by `Deno.serve(rt.fetch)`: the Fetch
 * handler on a second non-Node runtime, all three transports (WebSocket through `Deno.upgradeWebSocket`). Vitest itself runs under Deno (`scripts/runtime-conformance.sh deno`,
 * Deno from the `@deno/linux-x64-glibc` npm package). Not part of `npm test`.
 */
import type { Listener, Mount } from "@throughline/testkit";
import { describeConformance } from "@throughline/testkit/conformance";

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Promise<Response>,
  ): { readonly addr: { port: number }; shutdown(): Promise<void> };
};

const DENO_MOUNT: Mount = (rt): Listener => {
  let server: ReturnType<typeof Deno.serve> | undefined;
  return {
    async listen(port) {
      server = Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, rt.fetch);
      return server.addr.port;
    },
    async close() {
      await server?.shutdown();
    },
  };
};

describeConformance("sse", { label: "Deno.serve + rt.fetch", mount: DENO_MOUNT });
describeConformance("long-poll", { label: "Deno.serve + rt.fetch", mount: DENO_MOUNT });
describeConformance("websocket", { label: "Deno.serve + rt.fetch (Deno.upgradeWebSocket)", mount: DENO_MOUNT });
