import { afterEach, describe, expect, it } from "vitest";
import { startHostileProxy, type Behaviour } from "../../src/hostile/index.js";
import { Cleanup, nthStream, openWs, record, startUpstream, waitFor, within } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Counts of the handle kinds a proxy could leak. */
function handles(): { TCPSocketWrap: number; TCPServerWrap: number; Timeout: number } {
  const counts = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r as keyof typeof counts]++;
  return counts;
}

const EVERYTHING: Behaviour[] = [
  { kind: "hold-first-event" },
  { kind: "compress", blockBytes: 64 },
  { kind: "buffer-bytes", bytes: 1 << 20 },
  { kind: "cut-idle", ms: 60_000 },
  { kind: "cut-after", ms: 60_000 },
  { kind: "latency", ms: 5, jitterMs: 5 },
];

describe("close()", () => {
  it("destroys live streams and tunnels on both sides, clears its timers and leaves no handle behind", async () => {
    const before = handles();
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, EVERYTHING));
    const rec = record(`${proxy.url}/stream`, { headers: { "accept-encoding": "gzip" } });
    const s = await nthStream(up);
    s.write("data: 1\n\n");
    const c = openWs(`${proxy.url}/ws`);
    await waitFor(() => c.log.includes("open"), "the tunnel to open");
    await waitFor(() => handles().Timeout > before.Timeout, "the proxy's timers to be armed");

    await within(proxy.close(), "close()");
    await within(proxy.close(), "a second close()"); // idempotent
    await waitFor(() => rec.failed, "the client's stream to be cut");
    expect(rec.ended).toBe(false);
    expect(await within(c.closed, "the client's socket to close")).toBe(1006);
    await waitFor(() => s.closedEarly, "the upstream stream to be released");
    await waitFor(() => up.wsConnections[0]?.readyState === 3, "the upstream WebSocket to be released");
    await up.close();
    await waitFor(() => {
      const now = handles();
      return now.TCPSocketWrap <= before.TCPSocketWrap && now.TCPServerWrap <= before.TCPServerWrap && now.Timeout <= before.Timeout;
    }, `handles back to ${JSON.stringify(before)}`);
    expect(proxy.stats.cuts).toBe(0); // close() is not a cut
  });

  it("refuses connections once closed", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = await startHostileProxy(up.url, { kind: "pass" });
    await proxy.close();
    const rec = cleanup.add(record(`${proxy.url}/marker`));
    await waitFor(() => rec.failed, "the connection to be refused");
    expect(rec.log).toEqual(["error:ECONNREFUSED"]);
  });
});
