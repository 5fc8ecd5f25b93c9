/**
 * Connection flood from one address: the per-address cap holds (429 + Retry-After beyond it),
 * the server's heap stays bounded, and a client from another address keeps streaming. The server
 * runs in a child process with --expose-gc so its heap is measured alone.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../src/wait.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const CAP = 50;
const FLOOD = 400;

/** The child: a Throughline server from the sources, bundled on the fly with esbuild. */
const SERVER_SOURCE = `
import { createServer } from ${JSON.stringify(join(ROOT, "packages/server/src/index.ts"))};
const rt = createServer({ maxConnectionsPerAddress: ${CAP}, trustProxy: true, heartbeatMs: 1000 });
const { port } = await rt.listen(0, "127.0.0.1");
process.on("message", (m) => {
  if (m === "heap") { globalThis.gc(); process.send({ heap: process.memoryUsage().heapUsed, connections: rt.connectionCount }); }
  if (m === "publish") { rt.publish("t", "x"); process.send({ published: true }); }
  if (m === "close") rt.close().then(() => process.exit(0));
});
process.send({ port });
`;

let dir: string;
let child: ChildProcess;
let port: number;
const sockets: Array<{ destroy(): void }> = [];

function ask<T>(msg: string, key: string): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off("message", on);
          resolve(m as T);
        }
      };
      child.on("message", on);
      child.send(msg);
    }),
    `the child's ${key}`,
  );
}

function openSse(headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string; data: () => string }> {
  return within(
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/realtime/sse?topics=t", headers, agent: false }, (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (data += c));
        res.on("error", () => {});
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string | undefined, data: () => data });
      });
      req.on("error", reject);
      sockets.push(req);
      req.end();
    }),
    "an SSE answer",
  );
}

beforeAll(async () => {
  const { build } = await import("esbuild");
  // Inside the repository, so the bundle's external imports (ws) resolve from its node_modules.
  await mkdir(join(ROOT, "node_modules/.cache"), { recursive: true });
  dir = await mkdtemp(join(ROOT, "node_modules/.cache/tl-flood-"));
  const entry = join(dir, "server.ts");
  await writeFile(entry, SERVER_SOURCE);
  const out = join(dir, "server.mjs");
  await build({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", outfile: out, packages: "external", logLevel: "silent", absWorkingDir: ROOT,
    plugins: [{ name: "tl", setup(b) { b.onResolve({ filter: /^@throughline\/(wire|server)$/ }, (a) => ({ path: join(ROOT, "packages", a.path.split("/")[1]!, "src/index.ts") })); } }] });
  child = fork(out, [], { execArgv: ["--expose-gc"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
  port = (await within(new Promise<{ port: number }>((r) => child.once("message", (m) => r(m as { port: number }))), "the child server")).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  if (child && child.exitCode === null) {
    child.send("close");
    await within(new Promise((r) => child.once("exit", r)), "the child to exit").catch(() => child.kill("SIGKILL"));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("connection flood", () => {
  it(`caps ${FLOOD} connections from one address at ${CAP}, keeps the heap bounded, and serves other addresses`, async () => {
    const before = await ask<{ heap: number }>("heap", "heap");
    const answers = [];
    for (let i = 0; i < FLOOD; i += 50) {
      answers.push(...(await Promise.all(Array.from({ length: Math.min(50, FLOOD - i) }, () => openSse()))));
    }
    const ok = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(ok).toBe(CAP);
    expect(refused.length).toBe(FLOOD - CAP);
    expect(refused.every((a) => a.retryAfter === "5")).toBe(true);
    const other = await openSse({ "x-forwarded-for": "10.9.9.9" });
    expect(other.status).toBe(200);
    await ask("publish", "published");
    await within((async () => { while (!other.data().includes('"data":"x"')) await new Promise((r) => setTimeout(r, 10)); })(), "the other client's message");
    const after = await ask<{ heap: number; connections: number }>("heap", "heap");
    expect(after.connections).toBe(CAP + 1);
    // Generous: 51 open streams and 350 refusals must not cost anything like megabytes each.
    expect(after.heap - before.heap).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);
});
