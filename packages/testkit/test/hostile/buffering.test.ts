import { gunzipSync, createGunzip } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { sleep } from "../../src/wait.js";
import { startHostileProxy } from "../../src/hostile/index.js";
import { Cleanup, nthStream, QUIET_MS, record, startUpstream, waitFor } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const PADDING = `:${" ".repeat(2048)}\n\n`;

describe("buffer-all", () => {
  it("sends nothing, not even the status line, before the upstream ends, then everything", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "buffer-all" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    for (let i = 0; i < 5; i++) s.write(`${PADDING}data: ${i}\n\n`);
    await sleep(QUIET_MS);
    expect(rec.log).toEqual([]);
    s.end();
    await waitFor(() => rec.ended, "the whole response");
    expect(rec.status).toBe(200);
    expect(rec.headers?.["x-throughline"]).toBe("1");
    expect(rec.body.toString()).toBe([0, 1, 2, 3, 4].map((i) => `${PADDING}data: ${i}\n\n`).join(""));
  });
});

describe("buffer-bytes", () => {
  it("passes the head, then the body only in blocks of at least N bytes, the rest on end", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "buffer-bytes", bytes: 4096 }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    await waitFor(() => rec.status === 200, "the head");
    const chunk = "x".repeat(999) + "\n"; // 1000 bytes
    for (let i = 0; i < 4; i++) s.write(chunk);
    await sleep(QUIET_MS);
    expect(rec.body.length).toBe(0);
    s.write(chunk); // 5000 ≥ 4096: flush
    await waitFor(() => rec.body.length === 5000, "the first block");
    for (let i = 0; i < 3; i++) s.write(chunk);
    await sleep(QUIET_MS);
    expect(rec.body.length).toBe(5000);
    s.end();
    await waitFor(() => rec.ended, "the remainder and the end");
    expect(rec.body.toString()).toBe(chunk.repeat(8));
  });
});

describe("hold-first-event", () => {
  it("lets the padding through, holds the first event until the second is complete, then streams", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "hold-first-event" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    s.write(PADDING);
    await waitFor(() => rec.body.toString() === PADDING, "the padding comment");
    s.write("retry: 50\nevent: tl:hello\ndata: {}\n\n:hb 1\n\n");
    s.write("id: 1\r\ndata: second, CRLF");
    await sleep(QUIET_MS);
    expect(rec.body.toString()).toBe(PADDING);
    s.write("\r\n\r");
    await waitFor(() => rec.body.toString().endsWith("id: 1\r\ndata: second, CRLF\r\n\r"), "both events once the second ended");
    s.write("\ndata: third\n\n");
    await waitFor(() => rec.body.toString().endsWith("data: third\n\n"), "the third event at once");
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(rec.body.toString()).toBe(`${PADDING}retry: 50\nevent: tl:hello\ndata: {}\n\n:hb 1\n\nid: 1\r\ndata: second, CRLF\r\n\r\ndata: third\n\n`);
  });

  it("leaves responses that are not event streams alone", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "hold-first-event" }));
    const rec = cleanup.add(record(`${proxy.url}/stream?type=application/json`));
    const s = await nthStream(up);
    s.write("data: 1\n\n");
    await waitFor(() => rec.body.toString() === "data: 1\n\n", "the first chunk at once");
    s.end();
    await waitFor(() => rec.ended, "the end");
  });

  it("flushes a held first event when the upstream ends before a second one", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "hold-first-event" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    s.write("data: only\n\n");
    await sleep(QUIET_MS);
    expect(rec.body.length).toBe(0);
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(rec.body.toString()).toBe("data: only\n\n");
  });
});

describe("compress", () => {
  it("gzips the body and releases nothing decodable until a full block of input", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "compress", blockBytes: 4096 }));
    const rec = cleanup.add(record(`${proxy.url}/stream`, { headers: { "accept-encoding": "gzip, deflate" } }));
    const s = await nthStream(up);
    await waitFor(() => rec.status === 200, "the head");
    expect(rec.headers?.["content-encoding"]).toBe("gzip");
    expect(rec.headers?.["x-throughline"]).toBe("1");
    // Decode incrementally, as a client would, to see what is readable at each point.
    const gunzip = createGunzip();
    cleanup.add({ close: () => void gunzip.destroy() });
    let fed = 0;
    let decoded = "";
    gunzip.on("data", (c: Buffer) => (decoded += c.toString()));
    const pump = () => {
      if (rec.body.length > fed) gunzip.write(rec.body.subarray(fed));
      fed = rec.body.length;
    };
    s.write("data: 1\n\n");
    s.write("data: 2\n\n");
    await sleep(QUIET_MS);
    pump();
    await sleep(50);
    expect(decoded).toBe("");
    const block = `data: ${"y".repeat(4200)}\n\n`;
    s.write(block);
    await waitFor(() => (pump(), decoded.length === 18 + block.length), "the first block, decodable");
    s.write("data: tail\n\n");
    await sleep(QUIET_MS);
    pump();
    expect(decoded.endsWith("tail\n\n")).toBe(false);
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(gunzipSync(rec.body).toString()).toBe(`data: 1\n\ndata: 2\n\n${block}data: tail\n\n`);
  });

  it("does not compress for a client that does not accept gzip", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, { kind: "compress" }));
    const rec = cleanup.add(record(`${proxy.url}/stream`));
    const s = await nthStream(up);
    s.write("data: 1\n\n");
    await waitFor(() => rec.body.toString() === "data: 1\n\n", "the event, uncompressed, at once");
    expect(rec.headers?.["content-encoding"]).toBeUndefined();
    s.end();
  });
});

describe("combinations", () => {
  it("apply in order: gzip flushing every write, then a 1 MB buffer of its output, holds everything until the end", async () => {
    const up = cleanup.add(await startUpstream());
    const proxy = cleanup.add(await startHostileProxy(up.url, [{ kind: "compress", blockBytes: 1 }, { kind: "buffer-bytes", bytes: 1 << 20 }]));
    const rec = cleanup.add(record(`${proxy.url}/stream`, { headers: { "accept-encoding": "gzip" } }));
    const s = await nthStream(up);
    await waitFor(() => rec.status === 200, "the head");
    for (let i = 0; i < 20; i++) s.write(`data: ${i}\n\n`);
    await sleep(QUIET_MS);
    expect(rec.body.length).toBe(0);
    s.end();
    await waitFor(() => rec.ended, "the end");
    expect(gunzipSync(rec.body).toString()).toBe(Array.from({ length: 20 }, (_, i) => `data: ${i}\n\n`).join(""));
  });
});
