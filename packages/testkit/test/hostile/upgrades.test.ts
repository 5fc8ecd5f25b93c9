import { afterEach, describe, expect, it } from "vitest";
import { startHostileProxy } from "../../src/hostile/index.js";
import { Cleanup, nthStream, openWs, record, startUpstream, waitFor, within } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function ws(url: string) {
  const c = openWs(url);
  cleanup.add({ close: () => c.ws.terminate() });
  return c;
}

describe("refuse-upgrade", () => {
  it("answers WebSocket upgrades 403 with its own page, without reaching the upstream", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "refuse-upgrade" }));
    const c = ws(`${proxy.url}/realtime/ws`);
    await within(c.closed, "the refused socket to close");
    expect(c.log).toContain("unexpected-response:403");
    expect(c.log.some((l) => l.startsWith("body:") && l.includes("<html>"))).toBe(true);
    expect(c.log).not.toContain("open");
    expect(up.seen).toEqual([]);
    expect(proxy.stats.upgrades).toBe(1);
  });

  it("lets plain requests through", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "refuse-upgrade" }));
    const rec = cleanup.add(record(`${proxy.url}/marker`));
    await waitFor(() => rec.ended, "the answer");
    expect(rec.body.toString()).toBe("from the app");
    expect(rec.headers?.["x-throughline"]).toBe("1");
    expect(proxy.stats).toEqual({ requests: 1, upgrades: 0, cuts: 0 });
  });

  it("carries no x-throughline header on its 403", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "refuse-upgrade" }));
    const rec = cleanup.add(
      record(`${proxy.url}/realtime/ws`, {
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      }),
    );
    await waitFor(() => rec.ended, "the 403");
    expect(rec.status).toBe(403);
    expect(rec.headers?.["x-throughline"]).toBeUndefined();
    expect(rec.headers?.["content-type"]).toMatch(/^text\/html/);
  });
});

describe("strip-upgrade", () => {
  it("turns the WebSocket handshake into a plain GET, and relays the upstream's answer", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "strip-upgrade" }));
    const c = ws(`${proxy.url}/realtime/ws`);
    await within(c.closed, "the handshake to fail");
    expect(up.seen).toHaveLength(1);
    expect(up.seen[0]!.method).toBe("GET");
    expect(up.seen[0]!.headers.upgrade).toBeUndefined();
    expect(up.seen[0]!.headers.connection ?? "").not.toMatch(/upgrade/i);
    expect(up.seen[0]!.headers["sec-websocket-key"]).toBeDefined();
    // The upstream saw no upgrade, so it answered like any plain GET of a WebSocket route.
    expect(c.log).toContain("unexpected-response:404");
    expect(up.wsConnections).toHaveLength(0);
  });
});

describe("upgrade-then-close", () => {
  it("relays the 101, then drops the connection before any WebSocket data", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "upgrade-then-close" }));
    const c = ws(`${proxy.url}/ws?greet=1`);
    const code = await within(c.closed, "the close");
    expect(code).toBe(1006);
    expect(c.messages).toEqual([]);
    expect(c.log[0]).toBe("open"); // the upgrade itself succeeded
    expect(proxy.stats).toEqual({ requests: 0, upgrades: 1, cuts: 1 });
    await waitFor(() => up.wsConnections.length === 1, "the upstream to have accepted the upgrade");
  });

  it("leaves plain requests alone", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "upgrade-then-close" }));
    const rec = cleanup.add(record(`${proxy.url}/marker`));
    await waitFor(() => rec.ended, "the answer");
    expect(rec.body.toString()).toBe("from the app");
  });
});

describe("block-event-stream", () => {
  it("replaces event streams by a 403 HTML page without the x-throughline header, and lets go of the upstream", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "block-event-stream" }));
    const rec = cleanup.add(record(`${proxy.url}/stream?type=text/event-stream;%20charset=utf-8`));
    const s = await nthStream(up);
    s.write("data: secret\n\n");
    await waitFor(() => rec.ended, "the 403");
    expect(rec.status).toBe(403);
    expect(rec.headers?.["x-throughline"]).toBeUndefined();
    expect(rec.headers?.["content-type"]).toMatch(/^text\/html/);
    expect(rec.body.toString()).toContain("<html>");
    expect(rec.body.toString()).not.toContain("secret");
    await waitFor(() => s.closedEarly, "the upstream stream to be closed by the proxy");
  });

  it("passes other content types and WebSocket upgrades", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "block-event-stream" }));
    const rec = cleanup.add(record(`${proxy.url}/stream?type=application/json`));
    const s = await nthStream(up);
    s.write("[1]");
    await waitFor(() => rec.body.toString() === "[1]", "the json chunk");
    s.end();
    const c = ws(`${proxy.url}/ws?greet=1`);
    await waitFor(() => c.messages.length === 1, "the greeting over WebSocket");
    expect(rec.status).toBe(200);
  });
});
