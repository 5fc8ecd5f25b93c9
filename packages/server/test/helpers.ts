/**
 * Test helpers: a server on loopback, raw SSE / WebSocket / HTTP clients that record frames,
 * and bounded waits. Everything opened here is registered and closed by `cleanup()`.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { createSseFrameDecoder, decodeServerFrame, type ServerFrame } from "@throughline/wire";
import { createServer, type ServerOptions, type ThroughlineServer } from "@throughline/server";
import { FakeClock as SharedFakeClock, within } from "@throughline/testkit";
import { coreOf } from "../src/server.js";

const closers: Array<() => Promise<void> | void> = [];

/** Closes everything opened since the last call (newest first). */
export async function cleanup(): Promise<void> {
  while (closers.length > 0) {
    const fn = closers.pop()!;
    try {
      await fn();
    } catch {
      // keep closing the rest
    }
  }
}

export function onCleanup(fn: () => Promise<void> | void): void {
  closers.push(fn);
}

export { sleep, waitFor, within } from "@throughline/testkit";

export interface Started {
  readonly rt: ThroughlineServer;
  /** Base URL of the Throughline path. */
  readonly url: string;
  readonly port: number;
}

/** A server listening on 127.0.0.1 (closed by cleanup). */
export async function start(options: ServerOptions = {}): Promise<Started> {
  const rt = createServer(options);
  const { port, url } = await rt.listen(0, "127.0.0.1");
  onCleanup(() => rt.close());
  return { rt, url, port };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request with node:http (any method, raw headers), body collected. */
export function httpRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return within(
    new Promise<RawResponse>((resolve, reject) => {
      const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(init.body);
    }),
    `${init.method ?? "GET"} ${url}`,
  );
}

/** A raw SSE client recording the stream text and the decoded frames. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Everything received, as text. */
  readonly text: () => string;
  readonly frames: ServerFrame[];
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  readonly response: IncomingMessage;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return within(
    new Promise<SseClient>((resolve, reject) => {
      const req = request(url, { headers: { accept: "text/event-stream", ...headers }, agent: false }, (res) => {
        let text = "";
        const frames: ServerFrame[] = [];
        const comments: string[] = [];
        const decoder = createSseFrameDecoder({
          onFrame: (f) => frames.push(f),
          onError: (e) => frames.push({ type: "close", code: -1, reason: `bad frame: ${e.message}` }),
          onComment: (c) => comments.push(c),
        });
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          decoder.feed(chunk);
        });
        const ended = new Promise<void>((r) => {
          res.on("end", r);
          res.on("close", r);
        });
        res.on("error", () => {});
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: () => text, frames, comments, ended, response: res, close: () => req.destroy() });
      });
      req.on("error", reject);
      req.end();
      onCleanup(() => {
        req.destroy();
      });
    }),
    `SSE ${url}`,
  );
}

/** A WebSocket client recording decoded frames and the close event. */
export interface WsClient {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[];
  readonly upgradeHeaders: IncomingHttpHeaders;
  closed: { code: number; reason: string } | undefined;
  readonly closedPromise: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
}

export function openWs(url: string): Promise<WsClient> {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  onCleanup(() => ws.terminate());
  const frames: ServerFrame[] = [];
  let upgradeHeaders: IncomingHttpHeaders = {};
  ws.on("upgrade", (res) => (upgradeHeaders = res.headers));
  ws.on("message", (data) => frames.push(decodeServerFrame(String(data))));
  ws.on("error", () => {});
  const client: WsClient = {
    ws,
    frames,
    get upgradeHeaders() {
      return upgradeHeaders;
    },
    closed: undefined,
    closedPromise: new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        client.closed = { code, reason: reason.toString() };
        resolve(client.closed);
      });
    }),
    send: (value) => ws.send(typeof value === "string" ? value : JSON.stringify(value)),
  };
  return within(
    new Promise<WsClient>((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    }),
    `WebSocket ${url}`,
  );
}

/** GET P/poll, decoded. */
export async function poll(url: string, params: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; frames: ServerFrame[]; body: string }> {
  const u = new URL(`${url}/poll`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const res = await httpRequest(u.toString());
  const frames = res.status === 200 ? (JSON.parse(res.body) as ServerFrame[]) : [];
  return { ...res, frames };
}

export function messages(frames: readonly ServerFrame[]): Array<Extract<ServerFrame, { type: "message" }>> {
  return frames.filter((f): f is Extract<ServerFrame, { type: "message" }> => f.type === "message");
}

export function hello(frames: readonly ServerFrame[]): Extract<ServerFrame, { type: "hello" }> {
  const h = frames[0];
  if (!h || h.type !== "hello") throw new Error(`expected hello first, got ${JSON.stringify(h)}`);
  return h;
}

/** The shared fake clock, starting at a non-zero time (ids and ages must not rely on 0). */
export class FakeClock extends SharedFakeClock {
  constructor() {
    super(1_000_000);
  }
}

/**
 * Whether the session's long-poll connection holds a poll (`undefined`: it has none). Reads the
 * transport's own state through the server core, as a test may and an application may not.
 */
export function heldPoll(rt: ThroughlineServer, sessionId: string): boolean | undefined {
  const { registry } = coreOf(rt);
  const session = registry.sessions.get(sessionId);
  const kept = session ? (registry.keptOf(session)[0] as { held?: boolean } | undefined) : undefined;
  return kept?.held;
}
