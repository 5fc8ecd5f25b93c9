import express from "express";
import { describeFramework } from "./scenario.js";
import { listening } from "./listen.js";

describeFramework("Express 5", async (rt) => {
  const app = express();
  // Throughline first (it reads its own bodies), the application's body parser after it.
  app.use(rt.handle);
  app.use(express.json());
  app.get("/app", (_req, res) => {
    res.send("app");
  });
  const server = app.listen(0, "127.0.0.1");
  server.on("upgrade", rt.handleUpgrade);
  return listening(server);
});

describeFramework("Express 5 behind express.json()", async (rt) => {
  const app = express();
  // Mounted after a body parser: the send route takes the parsed `req.body`.
  app.use(express.json());
  app.use(rt.handle);
  app.get("/app", (_req, res) => {
    res.send("app");
  });
  const server = app.listen(0, "127.0.0.1");
  server.on("upgrade", rt.handleUpgrade);
  return listening(server);
});
