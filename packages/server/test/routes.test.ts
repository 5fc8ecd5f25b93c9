import { afterEach, describe, expect, it } from "vitest";
import { cleanup, httpRequest, openSse, start } from "./helpers.js";

afterEach(cleanup);

function expectMarkedJsonError(r: { status: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.headers["x-throughline"]).toBe("1");
  expect(r.headers["x-content-type-options"]).toBe("nosniff");
  expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(r.headers["cache-control"]).toBe("no-store");
  const body = JSON.parse(r.body) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/^Throughline: /);
}

describe("routing", () => {
  it("answers unknown routes under the path with a marked 404 TL_NOT_FOUND", async () => {
    const { url } = await start();
    for (const route of ["", "/", "/nope", "/sse/extra", "/ticket", "/SSE"]) {
      expectMarkedJsonError(await httpRequest(`${url}${route}`), 404, "TL_NOT_FOUND");
    }
  });

  it("leaves paths outside the base path alone (listen() answers them 404 without the marker)", async () => {
    const { url } = await start();
    const base = url.replace(/\/realtime$/, "");
    for (const p of ["/", "/realtimex/sse", "/other/realtime/sse"]) {
      const r = await httpRequest(`${base}${p}`);
      expect(r.status).toBe(404);
      expect(r.headers["x-throughline"]).toBeUndefined();
    }
  });

  it("answers a wrong method with 405 and Allow", async () => {
    const { url } = await start();
    for (const [route, method, allow] of [
      ["/sse", "POST", "GET, OPTIONS"],
      ["/poll", "DELETE", "GET, OPTIONS"],
      ["/send", "GET", "POST, OPTIONS"],
      ["/sse", "HEAD", "GET, OPTIONS"],
    ] as const) {
      const r = await httpRequest(`${url}${route}`, { method });
      expect(r.status, `${method} ${route}`).toBe(405);
      expect(r.headers.allow).toBe(allow);
      expect(r.headers["x-throughline"]).toBe("1");
      if (method !== "HEAD") expectMarkedJsonError(r, 405, "TL_METHOD_NOT_ALLOWED");
    }
  });

  it("answers OPTIONS with 204, Allow and the marker", async () => {
    const { url } = await start();
    const r = await httpRequest(`${url}/send`, { method: "OPTIONS" });
    expect(r.status).toBe(204);
    expect(r.headers.allow).toBe("POST, OPTIONS");
    expect(r.headers["x-throughline"]).toBe("1");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("answers a disabled transport with 404 TL_TRANSPORT_DISABLED", async () => {
    const { url } = await start({ transports: ["websocket"] });
    expectMarkedJsonError(await httpRequest(`${url}/sse`), 404, "TL_TRANSPORT_DISABLED");
    expectMarkedJsonError(await httpRequest(`${url}/poll`), 404, "TL_TRANSPORT_DISABLED");
    const { url: url2 } = await start({ transports: ["sse"] });
    expectMarkedJsonError(await httpRequest(`${url2}/ws`), 404, "TL_TRANSPORT_DISABLED");
  });

  it("answers GET /ws without an upgrade with 426", async () => {
    const { url } = await start();
    const r = await httpRequest(`${url}/ws`);
    expectMarkedJsonError(r, 426, "TL_UPGRADE_REQUIRED");
    expect(r.headers.upgrade).toBe("websocket");
  });

  it("serves a custom path and strips a trailing slash", async () => {
    const { url, rt } = await start({ path: "/api/rt/" });
    expect(rt.path).toBe("/api/rt");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/rt$/);
    const c = await openSse(`${url}/sse`);
    expect(c.status).toBe(200);
  });

  it("answers 503 TL_SERVER_CLOSING after close() on an attached server", async () => {
    const { createServer: createHttp } = await import("node:http");
    const { createServer } = await import("@throughline/server");
    const http = createHttp();
    const rt = createServer().attach(http);
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    try {
      await rt.close();
      const port = (http.address() as { port: number }).port;
      for (const route of ["/sse", "/poll", "/send"]) {
        const r = await httpRequest(`http://127.0.0.1:${port}/realtime${route}`, { method: route === "/send" ? "POST" : "GET", body: route === "/send" ? "{}" : undefined });
        expectMarkedJsonError(r, 503, "TL_SERVER_CLOSING");
      }
    } finally {
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      });
    }
  });
});
