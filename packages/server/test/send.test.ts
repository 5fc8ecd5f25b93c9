import { afterEach, describe, expect, it } from "vitest";
import { cleanup, hello, httpRequest, messages, openSse, poll, start, waitFor, within } from "./helpers.js";

afterEach(cleanup);

async function sseSession(url: string) {
  const c = await openSse(`${url}/sse`);
  await waitFor(() => c.frames.length >= 1, "the hello");
  return { client: c, session: hello(c.frames).session };
}

describe("POST /send", () => {
  it("passes one frame or a batch to the message listeners and answers 204 with the marker", async () => {
    const got: Array<[unknown, string]> = [];
    const { url, rt } = await start();
    rt.on("message", (d, s) => got.push([d, s.id]));
    const { session } = await sseSession(url);
    const one = await httpRequest(`${url}/send?session=${session}`, { method: "POST", body: JSON.stringify({ type: "message", data: "ünï\n" }) });
    expect(one.status).toBe(204);
    expect(one.headers["x-throughline"]).toBe("1");
    const batch = await httpRequest(`${url}/send?session=${session}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify([{ type: "message", data: 1 }, { type: "heartbeat", time: 5 }, { type: "message", data: { two: 2 } }]),
    });
    expect(batch.status).toBe(204);
    expect(got).toEqual([
      ["ünï\n", session],
      [1, session],
      [{ two: 2 }, session],
    ]);
  });

  it("works with fetch from a long-poll session", async () => {
    const got: unknown[] = [];
    const { url } = await start({ onMessage: (d) => void got.push(d) });
    const h = hello((await poll(url)).frames);
    const res = await fetch(`${url}/send?session=${h.session}`, { method: "POST", body: '{"type":"message","data":[1,2]}' });
    expect(res.status).toBe(204);
    expect(got).toEqual([[1, 2]]);
  });

  it("answers malformed bodies with 400 TL_BAD_MESSAGE and leaves the stream alone", async () => {
    const got: unknown[] = [];
    const { url, rt } = await start({ onMessage: (d) => void got.push(d) });
    const { client, session } = await sseSession(url);
    for (const body of ["{not json", '{"type":"nope"}', "[]", '{"data":1}', "", '[{"type":"message","data":1},{"type":"x"}]']) {
      const r = await httpRequest(`${url}/send?session=${session}`, { method: "POST", body });
      expect(r.status, body).toBe(400);
      expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "TL_BAD_MESSAGE", message: expect.stringMatching(/^Throughline: /) } });
    }
    expect(got).toEqual([]);
    const id = rt.publish("t", "still here");
    await waitFor(() => messages(client.frames).length === 1, "a message on the stream");
    expect(messages(client.frames)[0]!.id).toBe(id);
  });

  it("answers a body beyond maxInboundBytes with 413 TL_PAYLOAD_TOO_LARGE", async () => {
    const got: unknown[] = [];
    const { url } = await start({ maxInboundBytes: 1024, onMessage: (d) => void got.push(d) });
    const { session } = await sseSession(url);
    const body = JSON.stringify({ type: "message", data: "x".repeat(100_000) });
    const r = await httpRequest(`${url}/send?session=${session}`, { method: "POST", body });
    expect(r.status).toBe(413);
    expect(r.headers["x-throughline"]).toBe("1");
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: "TL_PAYLOAD_TOO_LARGE" } });
    // Also with fetch (chunked upload, no content-length check possible up front).
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("y".repeat(10_000)));
        controller.close();
      },
    });
    const f = await within(fetch(`${url}/send?session=${session}`, { method: "POST", body: stream, duplex: "half" } as RequestInit), "the chunked upload");
    expect(f.status).toBe(413);
    expect(await f.json()).toMatchObject({ error: { code: "TL_PAYLOAD_TOO_LARGE" } });
    expect(got).toEqual([]);
  });

  it("answers an unknown session with 404 and a missing one with 400", async () => {
    const { url } = await start();
    const unknown = await httpRequest(`${url}/send?session=nosuch`, { method: "POST", body: '{"type":"message","data":1}' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: "TL_UNKNOWN_SESSION" } });
    const missing = await httpRequest(`${url}/send`, { method: "POST", body: '{"type":"message","data":1}' });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toMatchObject({ error: { code: "TL_BAD_REQUEST" } });
  });

  it("ends the session on a close frame: its stream gets close 1000", async () => {
    const { url, rt } = await start();
    const { client, session } = await sseSession(url);
    const r = await httpRequest(`${url}/send?session=${session}`, { method: "POST", body: '{"type":"close"}' });
    expect(r.status).toBe(204);
    await within(client.ended, "the stream to end");
    expect(client.frames[client.frames.length - 1]).toEqual({ type: "close", code: 1000, reason: "" });
    expect(rt.sessionCount).toBe(0);
    expect(rt.connectionCount).toBe(0);
  });

  it("never lets a throwing or rejecting handler break the server", async () => {
    const { url, rt } = await start({ onMessage: async () => Promise.reject(new Error("boom")) });
    rt.on("message", () => {
      throw new Error("sync boom");
    });
    const { session } = await sseSession(url);
    for (let i = 0; i < 3; i++) {
      const r = await httpRequest(`${url}/send?session=${session}`, { method: "POST", body: '{"type":"message","data":1}' });
      expect(r.status).toBe(204);
    }
  });
});
