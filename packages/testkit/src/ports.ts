/** Free loopback ports for the servers the tests and scripts start. */
import { createServer, type AddressInfo } from "node:net";

/**
 * A TCP port free on 127.0.0.1 right now (bound with `listen(0)`, then released). Another
 * process may take it before the caller binds it: callers that cannot retry should prefer
 * `listen(0)` themselves; this is for programs that must be told a port (nginx, redis-server,
 * node processes restarted on the same port).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
