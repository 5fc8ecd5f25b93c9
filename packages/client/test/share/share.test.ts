/**
 * `share()` in Node 20, which has BroadcastChannel but no Web Locks: every caller leads its own
 * connection (the documented fallback), with the same API. Options are validated up front.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { share } from "@throughline/client/share";
import { waitFor } from "../helpers/wait.js";

let rt: ThroughlineServer;
let url: string;
const received: unknown[] = [];

beforeAll(async () => {
  rt = createServer({ heartbeatMs: 1_000, retryMs: 50 });
  rt.on("message", (d) => void received.push(d));
  url = (await rt.listen(0, "127.0.0.1")).url;
});
afterAll(() => rt.close());

describe("share() without Web Locks", () => {
  // Node 24 has navigator.locks: hide it, so these tests run the no-Web-Locks path on every Node.
  beforeEach(() => void vi.stubGlobal("navigator", { locks: undefined }));
  afterEach(() => void vi.unstubAllGlobals());
  it("leads its own connection: receives its topics, sends, closes", async () => {
    const ch = share(url, { topics: ["x"], transports: ["sse"] });
    const got: unknown[] = [];
    ch.on("*", (m) => got.push(m.data));
    const leader: boolean[] = [];
    expect(ch.isLeader).toBe(true);
    ch.on("leader", (l) => leader.push(l));
    await waitFor(() => ch.readyState === 1, "open");
    rt.publish("y", "not mine");
    rt.publish("x", 1);
    await waitFor(() => got.length === 1, "the message");
    expect(got).toEqual([1]);
    expect(ch.cursor).toMatch(/-\d+$/);
    await ch.send({ hi: 1 });
    await waitFor(() => received.length === 1, "the send");
    expect(received).toEqual([{ hi: 1 }]);
    ch.close();
    ch.close();
    expect(ch.readyState).toBe(2);
    expect(leader).toEqual([false]);
    await expect(ch.send(1)).rejects.toMatchObject({ code: "TL_CLOSED" });
    await waitFor(() => rt.connectionCount === 0, "the server to see the close");
  });

  it("rejects bad options with TL_INVALID_OPTION / TL_BAD_TOPIC, naming them", () => {
    expect(() => share(url, { beatMs: 0 })).toThrow(/beatMs/);
    expect(() => share(url, { beatMs: 1000, stallMs: 1500 })).toThrow(/stallMs \(1500\) must be at least twice beatMs \(1000\)/);
    expect(() => share(url, { topics: ["bad topic"] })).toThrow(expect.objectContaining({ code: "TL_BAD_TOPIC" }));
    expect(() => share("not a url")).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });
});
