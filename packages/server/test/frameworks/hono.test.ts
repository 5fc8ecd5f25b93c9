import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { honoMiddleware } from "@throughline/server";
import { describeFramework } from "./scenario.js";
import { listening } from "./listen.js";

describeFramework("Hono 4 on @hono/node-server", async (rt) => {
  const app = new Hono();
  app.use(honoMiddleware(rt));
  app.get("/app", (c) => c.text("app"));
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  // On Node, WebSocket upgrades go to the node server next to the Fetch app.
  server.on("upgrade", rt.handleUpgrade);
  return listening(server);
});
