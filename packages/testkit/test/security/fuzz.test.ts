/**
 * Fuzz of every endpoint over raw sockets: arbitrary methods, paths, query strings, headers and
 * bodies (invalid UTF-8, huge, truncated, malformed JSON). Property: each request gets a
 * well-formed HTTP answer with a documented status (and, when the server itself answered, a
 * documented error code matching it) or a clean close; the server stays up; and a healthy client
 * connected the whole time receives every message published meanwhile.
 */
import { connect as netConnect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Channel } from "@throughline/client/node";
import { createServer, type ThroughlineServer } from "@throughline/server";
import { ERROR_STATUS, isErrorCode, statusOf, type Message } from "@throughline/wire";
import { waitFor, within } from "../../src/wait.js";

/** Statuses the server (or node:http underneath it) may answer; 500 would be a bug. */
const DOCUMENTED = new Set([200, 204, 400, 401, 403, 404, 405, 408, 413, 426, 429, 431]);

let rt: ThroughlineServer;
let port: number;
let url: string;
let healthy: Channel;
const received: Message[] = [];
let published = 0;
let publisher: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  rt = createServer({
    heartbeatMs: 1_000,
    longPollHoldMs: 200,
    retryMs: 20,
    maxInboundBytes: 1_024,
    headersTimeoutMs: 1_000,
    requestTimeoutMs: 1_000,
    cors: { origins: ["http://allowed.test"], credentials: true },
    authenticate: (req) => {
      const h = req.headers.authorization;
      if (h === undefined) return "anonymous";
      return h === "Bearer good" ? "healthy" : null;
    },
    authorize: (_user, topic) => topic !== "forbidden",
  });
  const listening = await rt.listen(0, "127.0.0.1");
  port = listening.port;
  url = listening.url;
  healthy = connect(url, { transports: ["websocket"], topics: ["fuzz"], token: "good", reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  healthy.on("*", (m) => void received.push(m));
  await within(new Promise((r) => healthy.on("open", r)), "the healthy client to open");
  publisher = setInterval(() => rt.publish("fuzz", published++), 20);
});

afterAll(async () => {
  clearInterval(publisher);
  healthy?.close();
  await rt?.close();
});

interface Raw {
  method: string;
  path: string;
  query: Array<[string, string]>;
  headers: Array<[string, string]>;
  body: Uint8Array;
  /** Declared Content-Length minus the bytes sent (truncation) or undefined (no header). */
  declaredExtra: number | undefined;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const arbitraryRaw: fc.Arbitrary<Raw> = fc.record({
  method: fc.oneof(fc.constantFrom("GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"), token),
  path: fc.oneof(
    fc.constantFrom("/sse", "/ws", "/poll", "/send", "/ticket", "", "/", "/sse/", "/../sse", "//poll"),
    fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
    fc.stringMatching(/^[/A-Za-z0-9%._~-]{0,40}$/),
  ),
  query: fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom("topics", "session", "cursor", "lastEventId", "ticket", "connect"), fc.string({ maxLength: 8 })),
      fc.oneof(fc.constantFrom("fuzz", "*", "forbidden", "a,b,c", "1", "x-1", "", ",,,", "a".repeat(300)), fc.string({ maxLength: 60 })),
    ),
    { maxLength: 4 },
  ),
  headers: fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom("origin"), fc.constantFrom("http://allowed.test", "https://evil.test", "null", "")),
      fc.tuple(fc.constantFrom("authorization"), fc.constantFrom("Bearer good", "Bearer bad", "Basic Zm9v", "")),
      fc.tuple(fc.constantFrom("upgrade"), fc.constantFrom("websocket", "h2c")),
      fc.tuple(fc.constantFrom("last-event-id", "content-type", "x-forwarded-for", "access-control-request-method"), fc.string({ maxLength: 40 })),
      fc.tuple(token, fc.stringMatching(/^[\x20-\x7e]{0,60}$/)),
    ),
    { maxLength: 5 },
  ),
  body: fc.oneof(
    fc.constant(new Uint8Array()),
    fc.constantFrom('{"type":"message","data":1}', '[{"type":"close"}]', "{", '{"type":"message"', "[]", "null", '"\\ud800"').map((s) => new TextEncoder().encode(s)),
    fc.uint8Array({ maxLength: 200 }),
    fc.constantFrom(new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80])),
    fc.integer({ min: 2_000, max: 300_000 }).map((n) => new Uint8Array(n).fill(0x61)),
  ),
  declaredExtra: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
});

function encodeQuery(q: Array<[string, string]>): string {
  return q.length === 0 ? "" : `?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`;
}

interface Outcome {
  /** Everything read before the close (or up to the head of a stream). */
  readonly text: string;
}

/** Sends one raw request; resolves on close, or once a 200 stream's head arrived. */
function send(raw: Raw): Promise<Outcome> {
  return within(
    new Promise<Outcome>((resolve) => {
      const socket = netConnect(port, "127.0.0.1");
      let text = "";
      const done = () => {
        socket.destroy();
        resolve({ text });
      };
      socket.on("error", done);
      socket.on("close", done);
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        // A 200 SSE stream, a held poll or a 101 never ends on its own: its head is the answer.
        if (/^HTTP\/1\.1 (200|101) /.test(text) && text.includes("\r\n\r\n") && !/content-length: \d+/i.test(text)) done();
        if (/^HTTP\/1\.1 \d{3} /.test(text)) {
          const m = /content-length: (\d+)/i.exec(text);
          const head = text.indexOf("\r\n\r\n");
          if (m && head !== -1 && Buffer.byteLength(text.slice(head + 4), "latin1") >= Number(m[1])) done();
        }
      });
      socket.on("connect", () => {
        const lines = [`${raw.method} /realtime${raw.path}${encodeQuery(raw.query)} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: close"];
        for (const [k, v] of raw.headers) lines.push(`${k}: ${v}`);
        if (raw.body.length > 0 || raw.declaredExtra !== undefined) lines.push(`content-length: ${raw.body.length + (raw.declaredExtra ?? 0)}`);
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        socket.write(raw.body);
        // Half-close: a truncated body ends here instead of waiting for the request timeout.
        socket.end();
      });
    }),
    `${raw.method} ${raw.path}`,
    10_000,
  );
}

/** Requests that got an HTTP answer (not just a close): the fuzz must reach the routes. */
let answered = 0;

function check(raw: Raw, { text }: Outcome): void {
  if (text === "") return; // a clean close
  answered++;
  const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/.exec(text);
  expect(m, `not an HTTP answer: ${JSON.stringify(text.slice(0, 80))}`).not.toBeNull();
  const status = Number(m![1]);
  expect(DOCUMENTED.has(status) || status === 101, `status ${status} for ${raw.method} ${raw.path}`).toBe(true);
  const head = text.slice(0, text.indexOf("\r\n\r\n") + 1);
  if (raw.method !== "HEAD" && /\r\nx-throughline: 1\r\n/i.test(head) && /application\/json/i.test(head) && status >= 400) {
    const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as { error: { code: string; message: string } };
    expect(isErrorCode(body.error.code)).toBe(true);
    expect(statusOf(body.error.code as keyof typeof ERROR_STATUS)).toBe(status);
    expect(body.error.message).toMatch(/^Throughline: /);
    expect(body.error.message).not.toContain("Bearer");
  }
}

describe("fuzzing every endpoint", () => {
  it("answers every hostile request well-formed or closes cleanly, stays up, and the healthy client misses nothing", async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryRaw, async (raw) => check(raw, await send(raw))),
      { numRuns: 150, seed: 0x7417, endOnFailure: true },
    );
    expect(answered).toBeGreaterThan(100);
    // Still serving: a fresh request and the healthy client's whole stream.
    const probe = await send({ method: "GET", path: "/poll", query: [["topics", "fuzz"]], headers: [], body: new Uint8Array(), declaredExtra: undefined });
    expect(probe.text).toMatch(/^HTTP\/1\.1 200 /);
    const target = published;
    await waitFor(() => received.length >= target, `the healthy client to receive ${target} messages (has ${received.length})`, 10_000);
    expect(received.slice(0, target).map((m) => m.data)).toEqual([...Array(target).keys()]);
    expect(healthy.readyState).toBe(1);
  }, 60_000);
});
