/**
 * Real nginx (1.22 here) in front of a plain node:http / ws upstream. These tests document what
 * the negotiator must cope with behind the configs people actually deploy.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startNginx, type NginxConfig } from "../../src/hostile/index.js";
import { sleep } from "../../src/wait.js";
import { Cleanup, nthStream, openWs, QUIET_MS, record, startUpstream, waitFor, within, type Upstream } from "./helpers.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function behind(config: NginxConfig): Promise<{ up: Upstream; url: string }> {
  const up = cleanup.add(await startUpstream());
  const nginx = cleanup.add(await startNginx({ target: up.url, config }));
  return { up, url: nginx.url };
}

/** Writes five events, each only after the previous one reached the client. */
async function expectStreamed(up: Upstream, url: string, path: string): Promise<void> {
  const rec = cleanup.add(record(`${url}${path}`));
  const s = await nthStream(up);
  for (let i = 0; i < 5; i++) {
    s.write(`data: ${i}\n\n`);
    await waitFor(() => rec.body.toString().endsWith(`data: ${i}\n\n`), `event ${i} before the next is written`);
  }
  s.end();
  await waitFor(() => rec.ended, "the end");
}

/** Writes five small events (under nginx's 4 KB buffer); nothing, not even the status line, may arrive until the upstream ends. */
async function expectBuffered(up: Upstream, url: string, path: string): Promise<void> {
  const rec = cleanup.add(record(`${url}${path}`));
  const s = await nthStream(up);
  for (let i = 0; i < 5; i++) s.write(`:hb ${i}\n\ndata: ${i}\n\n`);
  await sleep(QUIET_MS * 2);
  expect(rec.log).toEqual([]);
  s.end();
  await waitFor(() => rec.ended, "the whole response");
  expect(rec.status).toBe(200);
  expect(rec.body.toString()).toContain("data: 4\n\n");
}

describe("nginx plain (proxy_pass with defaults)", () => {
  it("talks HTTP/1.0 to the upstream and holds a small stream, status line included, until it ends", async () => {
    const { up, url } = await behind("plain");
    await expectBuffered(up, url, "/stream");
    expect(up.seen[0]!.httpVersion).toBe("1.0");
  });

  it("releases a longer stream only in 4 KB blocks, the status line with the first: a 2 KB padding does not flush it", async () => {
    const { up, url } = await behind("plain");
    const rec = cleanup.add(record(`${url}/stream`));
    const s = await nthStream(up);
    s.write(`:${" ".repeat(2048)}\n\n`);
    for (let i = 0; i < 9; i++) s.write(`data: ${"x".repeat(90)}\n\n`); // 3 KB in all
    await sleep(QUIET_MS * 2);
    expect(rec.log).toEqual([]);
    s.write(`data: ${"y".repeat(2000)}\n\n`); // past 4 KB: one buffer is full
    await waitFor(() => rec.body.length > 0, "the first block");
    expect(rec.log.slice(0, 2)).toEqual(["head", "data"]);
    await sleep(QUIET_MS);
    expect(rec.body.length).toBeGreaterThan(3000);
    expect(rec.body.length).toBeLessThan(s.written); // the rest of the block is still held
    s.end();
    await waitFor(() => rec.ended, "the rest on end");
    expect(rec.body.length).toBe(s.written);
  });

  it("streams when the upstream sends X-Accel-Buffering: no", async () => {
    const { up, url } = await behind("plain");
    await expectStreamed(up, url, "/stream?accel=no");
  });

  it("turns a WebSocket handshake into a plain GET at the upstream", async () => {
    const { up, url } = await behind("plain");
    const c = openWs(`${url}/realtime/ws`);
    cleanup.add({ close: () => c.ws.terminate() });
    await within(c.closed, "the handshake to fail");
    expect(up.seen).toHaveLength(1);
    expect(up.seen[0]).toMatchObject({ method: "GET", url: "/realtime/ws", httpVersion: "1.0" });
    expect(up.seen[0]!.headers.upgrade).toBeUndefined();
    expect(up.seen[0]!.headers.connection).toBe("close");
    expect(c.log).toContain("unexpected-response:404");
    expect(c.log).not.toContain("open");
  });
});

describe("nginx buffering (proxy_buffering on, X-Accel-Buffering ignored)", () => {
  it("holds a small stream until it ends even when the upstream sends X-Accel-Buffering: no", async () => {
    const { up, url } = await behind("buffering");
    await expectBuffered(up, url, "/stream?accel=no");
  });

  it("with proxy_http_version 1.1 lets a chunked stream through chunk by chunk", async () => {
    const { up, url } = await behind("buffering-http11");
    await expectStreamed(up, url, "/stream?accel=no");
    expect(up.seen[0]!.httpVersion).toBe("1.1");
  });
});

describe("nginx tuned (the README's config)", () => {
  it("streams chunks promptly without any X-Accel-Buffering header", async () => {
    const { up, url } = await behind("tuned");
    await expectStreamed(up, url, "/stream");
  });

  it("forwards WebSocket upgrades", async () => {
    const { up, url } = await behind("tuned");
    const c = openWs(`${url}/ws?greet=1`);
    cleanup.add({ close: () => c.ws.terminate() });
    await waitFor(() => c.messages.length === 1, "the greeting");
    c.ws.send("through nginx");
    await waitFor(() => c.messages.length === 2, "the echo");
    expect(c.messages).toEqual(["hello", "through nginx"]);
    expect(up.wsConnections).toHaveLength(1);
  });
});

describe("startNginx", () => {
  it("close() kills nginx by pid, waits for it and removes its dir, idempotently", async () => {
    const up = cleanup.add(await startUpstream());
    const nginx = await startNginx({ target: up.url, config: "tuned" });
    cleanup.add(nginx);
    expect(existsSync(`${nginx.dir}/nginx.conf`)).toBe(true);
    const alive = () => {
      try {
        process.kill(nginx.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    await Promise.all([nginx.close(), nginx.close()]);
    expect(alive()).toBe(false);
    expect(existsSync(nginx.dir)).toBe(false);
    const rec = cleanup.add(record(`${nginx.url}/marker`));
    await waitFor(() => rec.failed, "the port to be closed");
  });

  it("puts serverParams on every upstream server line; with max_fails=0 a dead upstream is skipped on every request", async () => {
    const up = cleanup.add(await startUpstream());
    const dead = createNetServer().listen(0, "127.0.0.1");
    await new Promise((r) => dead.once("listening", r));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise((r) => dead.close(r));
    const nginx = cleanup.add(await startNginx({ target: up.url, moreTargets: [`http://127.0.0.1:${deadPort}`], config: "tuned", serverParams: "max_fails=0" }));
    const conf = readFileSync(`${nginx.dir}/nginx.conf`, "utf8");
    expect(conf).toContain(`server ${up.url.replace("http://", "")} max_fails=0`);
    expect(conf).toContain(`server 127.0.0.1:${deadPort} max_fails=0`);
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${nginx.url}/marker`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("from the app");
    }
    await expect(startNginx({ target: up.url, serverParams: "max_fails=0; } evil {" })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });

  it("rejects a bad target, an unknown config and a missing binary with TL_INVALID_OPTION", async () => {
    await expect(startNginx({ target: "127.0.0.1:80" })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
    await expect(startNginx({ target: "http://127.0.0.1:80", config: "fast" as NginxConfig })).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
    await expect(startNginx({ target: "http://127.0.0.1:80", binary: "/nonexistent/nginx" })).rejects.toMatchObject({
      code: "TL_INVALID_OPTION",
      message: expect.stringContaining("apt-get install nginx"),
    });
  });
});
