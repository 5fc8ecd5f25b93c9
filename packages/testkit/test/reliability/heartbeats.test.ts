/**
 * Heartbeats keep idle-cutting proxies from killing healthy streams: through a proxy that aborts
 * any exchange quiet for 1 s, a stream with 200 ms heartbeats (long-poll: 200 ms holds) lives on
 * one connection, while the same stream with 5 s heartbeats is cut, detected and resumed without
 * loss.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { startHostileProxy, type HostileProxy } from "../../src/hostile/index.js";
import { startTestServer, type TestServer } from "../../src/harness.js";
import { sleep, waitFor } from "../../src/wait.js";

let server: TestServer | undefined;
let proxy: HostileProxy | undefined;
let ch: Channel | undefined;
afterEach(async () => {
  ch?.close();
  await proxy?.close();
  await server?.close();
  ch = undefined;
  proxy = undefined;
  server = undefined;
});

async function through(transport: "sse" | "websocket" | "long-poll", beatMs: number) {
  server = await startTestServer({ heartbeatMs: beatMs, longPollHoldMs: beatMs, retryMs: 20 });
  proxy = await startHostileProxy(`http://127.0.0.1:${server.port}`, { kind: "cut-idle", ms: 1_000 });
  ch = connect(`${proxy.url}/realtime`, { transports: [transport], topics: ["t"], reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  const got: number[] = [];
  let opens = 0;
  ch.on("open", () => opens++);
  ch.on("error", () => {});
  ch.on("message", (m) => got.push(m.data as number));
  await waitFor(() => opens === 1, "the first open");
  server.rt.publish("t", 1);
  await waitFor(() => got.length === 1, "the first message");
  await sleep(3_000); // three idle windows of the proxy
  server.rt.publish("t", 2);
  await waitFor(() => got.length === 2, "the second message", 15_000);
  return { got, opens, cuts: proxy.stats.cuts };
}

describe.each(["sse", "websocket", "long-poll"] as const)("heartbeats through an idle-cutting proxy over %s", (transport) => {
  it("keep a healthy stream on one connection when they are more frequent than the proxy's idle limit", async () => {
    const r = await through(transport, 200);
    expect(r).toEqual({ got: [1, 2], opens: 1, cuts: 0 });
  });

  it("without frequent heartbeats the stream is cut, and the client resumes without loss", async () => {
    const r = await through(transport, 5_000);
    expect(r.cuts).toBeGreaterThan(0);
    expect(r.got).toEqual([1, 2]);
  });
});
