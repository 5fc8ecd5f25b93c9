import { afterEach, describe, expect, it } from "vitest";
import { describeBehaviour, startHostileProxy, validateBehaviours, type Behaviour } from "../../src/hostile/index.js";
import { Cleanup, nthStream, openWs, record, startUpstream, waitFor, within } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe("pass (control case)", () => {
  it("streams every chunk as soon as the upstream writes it, headers included", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "pass" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    await waitFor(() => rec.status === 200, "the head before any body byte");
    expect(rec.headers?.["x-throughline"]).toBe("1");
    expect(rec.headers?.["content-type"]).toBe("text/event-stream");
    for (let i = 0; i < 5; i++) {
      s.write(`data: ${i}\n\n`);
      await waitFor(() => rec.body.toString().endsWith(`data: ${i}\n\n`), `event ${i} before the next is written`);
    }
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(rec.failed).toBe(false);
    expect(proxy.stats).toEqual({ requests: 1, upgrades: 0, cuts: 0 });
  });

  it("forwards request bodies and keeps the request path and query", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, [{ kind: "pass" }]));
    const body = "ünïcödé ".repeat(10_000);
    const rec = cleanup.add(record(`${proxy.url}/echo?x=1&y=%20`, { method: "POST", body }));
    await waitFor(() => rec.ended, "the echo");
    expect(rec.body.toString()).toBe(body);
    expect(up.seen[0]).toMatchObject({ method: "POST", url: "/echo?x=1&y=%20" });
  });

  it("proxies WebSocket upgrades both ways", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "pass" }));
    const c = openWs(`${proxy.url}/ws?greet=1`);
    cleanup.add({ close: () => c.ws.terminate() });
    await waitFor(() => c.messages.length === 1, "the server's greeting");
    c.ws.send("ping ü");
    await waitFor(() => c.messages.length === 2, "the echo");
    expect(c.messages).toEqual(["hello", "ping ü"]);
    c.ws.close(1000, "done");
    expect(await within(c.closed, "a clean close")).toBe(1000);
    expect(proxy.stats).toEqual({ requests: 0, upgrades: 1, cuts: 0 });
  });

  it("carries 8 MB, through latency stages too, without losing or reordering a byte", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, [{ kind: "latency", ms: 1, jitterMs: 2 }, { kind: "pass" }]));
    const rec = cleanup.add(record(`${proxy.url}/stream?type=application/octet-stream`));
    const s = await nthStream(up);
    const chunks = Array.from({ length: 128 }, (_, i) => Buffer.alloc(65_536, i));
    for (const c of chunks) s.write(c);
    s.end();
    await waitFor(() => rec.ended, "8 MB", 20_000);
    expect(rec.body.equals(Buffer.concat(chunks))).toBe(true);
  });

  it("answers 502 with its own page, without the x-throughline marker, when the upstream is down", async () => {
    const up = await startUpstream();
    await up.close();
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "pass" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    await waitFor(() => rec.ended, "the 502");
    expect(rec.status).toBe(502);
    expect(rec.headers?.["x-throughline"]).toBeUndefined();
    expect(rec.body.toString()).toContain("<html>");
  });

  it("passes an upstream abort on as an abort, not a clean end", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "pass" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    s.write("data: 1\n\n");
    await waitFor(() => rec.body.length > 0, "the first event");
    await up.close();
    await waitFor(() => rec.failed, "the abort to reach the client");
    expect(rec.ended).toBe(false);
  });
});

describe("behaviour input", () => {
  it("rejects unknown kinds and out-of-range numbers with TL_INVALID_OPTION", async () => {
    const bad: unknown[] = [
      { kind: "nope" },
      null,
      "pass",
      { kind: "buffer-bytes" },
      { kind: "buffer-bytes", bytes: 0 },
      { kind: "buffer-bytes", bytes: 1.5 },
      { kind: "cut-idle", ms: -1 },
      { kind: "cut-after", ms: Number.NaN },
      { kind: "latency", ms: 10, jitterMs: -5 },
      { kind: "compress", blockBytes: "8k" },
    ];
    for (const b of bad) expect(() => validateBehaviours(b), JSON.stringify(b)).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    await expect(startHostileProxy("http://127.0.0.1:1", { kind: "nope" } as unknown as Behaviour)).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
    await expect(startHostileProxy("not a url", { kind: "pass" })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
    await expect(startHostileProxy("ws://127.0.0.1:80", { kind: "pass" })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });

  it("labels behaviours for the scenario table", () => {
    expect(describeBehaviour({ kind: "buffer-bytes", bytes: 8192 })).toBe("buffer 8 KB");
    expect(describeBehaviour({ kind: "cut-idle", ms: 30_000 })).toBe("cut idle 30 s");
    expect(describeBehaviour({ kind: "latency", ms: 200, jitterMs: 50 })).toBe("latency 200 ms ±50 ms");
    expect(describeBehaviour({ kind: "compress" })).toBe("gzip, 8 KB blocks");
    expect(describeBehaviour([{ kind: "strip-upgrade" }, { kind: "buffer-all" }])).toBe("strip Upgrade + buffer whole response");
    expect(describeBehaviour([])).toBe("pass");
  });
});

