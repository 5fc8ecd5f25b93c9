/**
 * The standard-WebSocket peer (Deno's `Deno.upgradeWebSocket` socket; exercised for real by the
 * conformance suite under Deno, `scripts/runtime-conformance.sh deno`). Here: what the WHATWG API
 * refuses that the transport asks for, checked against a stand-in that throws as the spec says.
 */
import { describe, expect, it } from "vitest";
import { standardPeer, type StandardSocketLike } from "../src/transports/peer.js";

/** A server-side socket that enforces the spec's close() rules (code 1000 or 3000–4999, reason ≤ 123 bytes). */
function strictSocket() {
  const sent: string[] = [];
  const closes: Array<[number | undefined, string | undefined]> = [];
  const ws: StandardSocketLike = {
    readyState: 1,
    bufferedAmount: 0,
    binaryType: "blob",
    onmessage: null,
    onclose: null,
    onerror: null,
    send: (data) => void sent.push(data),
    close(code, reason) {
      if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) throw new DOMException("bad code", "InvalidAccessError");
      if (reason !== undefined && new TextEncoder().encode(reason).length > 123) throw new DOMException("long reason", "SyntaxError");
      closes.push([code, reason]);
    },
  };
  return { ws, sent, closes };
}

describe("standardPeer", () => {
  it("sends Buffers as text frames and reads binary messages as UTF-8 text", () => {
    const { ws, sent } = strictSocket();
    const peer = standardPeer(ws);
    expect(ws.binaryType).toBe("arraybuffer");
    peer.send(Buffer.from('{"type":"heartbeat","time":1}'));
    peer.send("é");
    expect(sent).toEqual(['{"type":"heartbeat","time":1}', "é"]);
    const got: string[] = [];
    peer.listen({ message: (t) => got.push(t), close: () => got.push("closed"), pong: () => {} });
    ws.onmessage!({ data: new TextEncoder().encode("ünïcode").buffer });
    ws.onmessage!({ data: "plain" });
    ws.onclose!({});
    expect(got).toEqual(["ünïcode", "plain", "closed"]);
  });

  it("closes with 1000 where the API refuses the code or the reason (the code went out in the JSON close frame)", () => {
    const { ws, closes } = strictSocket();
    const peer = standardPeer(ws);
    peer.close(4408, "too slow");
    peer.close(1001, "server shutting down");
    peer.close(4000, "x".repeat(200));
    peer.terminate();
    expect(closes).toEqual([[4408, "too slow"], [1000, undefined], [1000, undefined], [1000, undefined]]);
  });

  it("calls a write's flushed callback (the runtime cannot tell when bytes left)", async () => {
    const { ws } = strictSocket();
    let flushed = false;
    standardPeer(ws).send("x", () => (flushed = true));
    await Promise.resolve();
    expect(flushed).toBe(true);
  });
});
