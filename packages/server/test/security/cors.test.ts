import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "@throughline/server";
import { cleanup, httpRequest, openSse, start, waitFor } from "../helpers.js";
import { errorCode, tryWs } from "./util.js";

afterEach(cleanup);

const APP = "http://app.example.test:8080";
const CORS = { cors: { origins: [APP, /^https:\/\/[a-z]+\.example\.test$/], credentials: true, maxAgeSeconds: 120 } };

describe("CORS", () => {
  it("answers the preflight of every sub-route for an allowed origin, echoing it (never *) with credentials", async () => {
    const { url } = await start(CORS);
    for (const [route, method] of [["/sse", "GET"], ["/ws", "GET"], ["/poll", "GET"], ["/send", "POST"], ["/nope", "GET"]] as const) {
      const r = await httpRequest(`${url}${route}`, {
        method: "OPTIONS",
        headers: { origin: APP, "access-control-request-method": method, "access-control-request-headers": "authorization, x-app" },
      });
      expect(r.status, route).toBe(route === "/nope" ? 404 : 204);
      expect(r.headers["access-control-allow-origin"]).toBe(APP);
      expect(r.headers["access-control-allow-credentials"]).toBe("true");
      expect(r.headers.vary).toContain("Origin");
      if (route !== "/nope") {
        expect(r.headers["access-control-allow-methods"]).toBe(`${method}, OPTIONS`);
        expect(r.headers["access-control-allow-headers"]).toBe("authorization, x-app");
        expect(r.headers["access-control-max-age"]).toBe("120");
      }
    }
  });

  it("exposes x-throughline on actual responses, so the client can tell the server's 401 from a proxy's", async () => {
    const { url } = await start({ ...CORS, authenticate: () => null });
    const r = await httpRequest(`${url}/sse`, { headers: { origin: "https://eu.example.test" } });
    expect(r.status).toBe(401);
    expect(r.headers["access-control-allow-origin"]).toBe("https://eu.example.test");
    expect(r.headers["access-control-expose-headers"]).toContain("x-throughline");
  });

  it("gives a disallowed origin a 403 without any CORS header, on requests and preflights", async () => {
    const { url } = await start(CORS);
    for (const method of ["GET", "OPTIONS"]) {
      const r = await httpRequest(`${url}/sse`, { method, headers: { origin: "https://evil.test", "access-control-request-method": "GET" } });
      expect(r.status).toBe(403);
      expect(errorCode(r.body)).toBe("TL_FORBIDDEN");
      expect(Object.keys(r.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
      expect(r.headers.vary).toContain("Origin");
    }
  });

  it("leaves credentials off unless asked, and sends no CORS headers at all without the option", async () => {
    const { url } = await start({ cors: { origins: (o) => o === APP } });
    const r = await httpRequest(`${url}/poll`, { headers: { origin: APP } });
    expect(r.headers["access-control-allow-origin"]).toBe(APP);
    expect(r.headers["access-control-allow-credentials"]).toBeUndefined();
    const plain = await start();
    const p = await httpRequest(`${plain.url}/poll`, { headers: { origin: APP } });
    expect(p.status).toBe(200);
    expect(Object.keys(p.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
  });

  it("refuses '*' and malformed allowlists at createServer time", () => {
    for (const cors of [{ origins: ["*"] }, { origins: "https://a.test" }, { origins: [APP], maxAgeSeconds: -1 }, { origins: [APP], credentials: "yes" }]) {
      expect(() => createServer({ cors: cors as never })).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
    }
  });

  it("fails closed when the origin predicate throws", async () => {
    const { url } = await start({ cors: { origins: () => { throw new Error("bug"); } } });
    expect((await httpRequest(`${url}/poll`, { headers: { origin: APP } })).status).toBe(403);
  });
});

describe("WebSocket origin check (cross-site WebSocket hijacking)", () => {
  it("refuses an upgrade from a foreign origin with 403, with or without the cors option", async () => {
    for (const options of [{}, CORS]) {
      const { url } = await start(options);
      const a = await tryWs(`${url}/ws`, { origin: "https://evil.test" });
      expect(a.status).toBe(403);
      expect(errorCode(a.body ?? "")).toBe("TL_FORBIDDEN");
    }
  });

  it("accepts same-origin pages, allowlisted origins and clients that send no Origin", async () => {
    const { url, port } = await start(CORS);
    for (const headers of [{ origin: `http://127.0.0.1:${port}` }, { origin: APP }, {}] as Array<Record<string, string>>) {
      const a = await tryWs(`${url}/ws`, headers);
      expect(a.status, JSON.stringify(headers)).toBeUndefined();
      await waitFor(() => a.frames.length >= 1, "hello");
    }
  });
});

describe("security headers", () => {
  it("puts nosniff, CORP and a locked-down CSP on JSON, empty, event-stream and refused-upgrade answers", async () => {
    const { url } = await start();
    const sse = await openSse(`${url}/sse`);
    const answers = [
      (await httpRequest(`${url}/poll`)).headers,
      (await httpRequest(`${url}/nope`)).headers,
      (await httpRequest(`${url}/sse`, { method: "OPTIONS" })).headers,
      sse.headers,
      (await tryWs(`${url}/nope`)).headers!,
    ];
    for (const h of answers) {
      expect(h["x-content-type-options"]).toBe("nosniff");
      expect(h["cross-origin-resource-policy"]).toBe("same-origin");
      expect(h["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });
});
