/**
 * A loopback TCP forwarder that can be retargeted (a load balancer in front of several
 * instances), cut (a network cut) and paused (a reader that stops reading, so backpressure
 * reaches the server). Used by the reliability tests and `npm run soak`.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface Forwarder {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Where new connections go from now on (existing ones are left alone). */
  setTarget(port: number): void;
  /** Destroys every forwarded connection (both sides): a network cut. */
  cut(): number;
  /** Stops reading from the upstream side for `ms` (the client "stops reading"; backpressure reaches the server). */
  pause(ms: number): void;
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP forwarder on 127.0.0.1 to `127.0.0.1:targetPort`. */
export async function startForwarder(targetPort: number): Promise<Forwarder> {
  let target = targetPort;
  const pairs = new Set<{ client: Socket; up: Socket }>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let pausedUntil = 0;
  const server: Server = createServer((client) => {
    const up = netConnect(target, "127.0.0.1");
    const pair = { client, up };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      up.destroy();
    };
    client.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
    client.on("data", (b: Buffer) => {
      if (!up.write(b)) client.pause();
    });
    up.on("drain", () => client.resume());
    up.on("data", (b: Buffer) => {
      if (!client.write(b)) up.pause();
    });
    client.on("drain", () => {
      if (Date.now() >= pausedUntil) up.resume();
    });
    if (Date.now() < pausedUntil) up.pause();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setTarget(p) {
      target = p;
    },
    cut() {
      const n = pairs.size;
      for (const { client, up } of [...pairs]) {
        client.destroy();
        up.destroy();
      }
      return n;
    },
    pause(ms) {
      pausedUntil = Date.now() + ms;
      for (const { up } of pairs) up.pause();
      const t = setTimeout(() => {
        timers.delete(t);
        if (Date.now() < pausedUntil) return;
        for (const { up } of pairs) up.resume();
      }, ms);
      timers.add(t);
    },
    get connections() {
      return pairs.size;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const { client, up } of [...pairs]) {
        client.destroy();
        up.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
