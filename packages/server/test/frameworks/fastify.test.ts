import Fastify from "fastify";
import { fastifyPlugin } from "@throughline/server";
import { describeFramework } from "./scenario.js";

describeFramework("Fastify 5", async (rt) => {
  const app = Fastify();
  await app.register(fastifyPlugin(rt));
  app.get("/app", async () => "app");
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as { port: number };
  return { origin: `http://127.0.0.1:${address.port}`, close: () => app.close() };
});
