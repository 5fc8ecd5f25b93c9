import Koa from "koa";
import { koaMiddleware } from "@throughline/server";
import { describeFramework } from "./scenario.js";
import { listening } from "./listen.js";

describeFramework("Koa 3", async (rt) => {
  const app = new Koa();
  app.use(koaMiddleware(rt));
  app.use(async (ctx) => {
    if (ctx.path === "/app") ctx.body = "app";
  });
  const server = app.listen(0, "127.0.0.1");
  server.on("upgrade", rt.handleUpgrade);
  return listening(server);
});
