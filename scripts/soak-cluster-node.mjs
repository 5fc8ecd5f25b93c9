// One node of the multi-node soak (scripts/soak-cluster.mjs): a Throughline server on the Redis
// backplane at /rt, plus `POST /publish?topic=&n=&t=` that publishes `{ n, t }` with publishAsync
// and answers 200 with the id once Redis stored it, 503 with the error code when it did not.
// Listens on the port it is given (the same one after a restart, as nginx's upstream names it).
import { createServer as createHttp } from "node:http";
import { createServer } from "@throughline/server";
import { redisBackplane } from "@throughline/redis";

const [url, keyPrefix, port] = process.argv.slice(2);
const backplane = redisBackplane({ url, keyPrefix });
const rt = createServer({ path: "/rt", backplane, heartbeatMs: 1_000, longPollHoldMs: 1_000 });
const http = createHttp((req, res) => {
  if (!req.url.startsWith("/publish")) return; // /rt is answered by the hub attached below
  const q = new URL(req.url, "http://x").searchParams;
  rt.publishAsync(q.get("topic"), { n: Number(q.get("n")), t: Number(q.get("t")) }).then(
    (id) => res.writeHead(200, { "content-type": "text/plain" }).end(id),
    (err) => res.writeHead(503, { "content-type": "text/plain" }).end(String(err.code ?? err.message)),
  );
});
rt.attach(http);
await rt.ready;
http.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => {
  rt.close()
    .then(() => backplane.close())
    .finally(() => process.exit(0));
});
