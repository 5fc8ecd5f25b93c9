/**
 * Configuration errors fail fast (issue #11): misspelled option names, a transport the runtime
 * cannot run and impossible combinations throw `TL_INVALID_OPTION` from `connect()` and
 * `createServer()` instead of being ignored or turning into a silent retry loop. Also: relative
 * URLs resolve against the page's `location`, and `credentials` reaches every fetch request.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { connect as connectPlain, type ConnectOptions } from "@throughline/client";
import { connect } from "@throughline/client/node";
import { createServer, type ServerOptions } from "@throughline/server";
import { ThroughlineError } from "@throughline/wire";
import { startTestServer, type TestServer } from "@throughline/testkit";

const URL_ = "http://127.0.0.1:9/realtime";

function thrown(fn: () => unknown): ThroughlineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ThroughlineError);
    return err as ThroughlineError;
  }
  throw new Error("expected a throw");
}

let server: TestServer | undefined;
afterEach(async () => {
  vi.unstubAllGlobals();
  await server?.close();
  server = undefined;
});

describe("connect() refuses configuration errors at once", () => {
  const cases: Array<[string, ConnectOptions, RegExp]> = [
    ["a misspelled option, listing the known ones", { tokn: "secret" } as ConnectOptions, /^Throughline: unknown option `tokn` \(known: topics, .*token.*\)\.$/],
    ["an option nobody has", { frobnicate: 1 } as ConnectOptions, /unknown option `frobnicate` \(known: /],
    ["a misspelled reconnect option", { reconnect: { maxDelay: 5 } } as unknown as ConnectOptions, /unknown option `reconnect.maxDelay` \(known: minDelayMs, maxDelayMs\)/],
    ["a misspelled negotiation option", { negotiation: { stagerMs: 5 } } as unknown as ConnectOptions, /unknown option `negotiation.stagerMs` \(known: staggerMs, .*, memory\)/],
    ["a credentials mode fetch does not have", { credentials: "always" } as unknown as ConnectOptions, /credentials must be one of omit, same-origin, include/],
    ["a WebSocket that is not a constructor", { WebSocket: "ws" } as unknown as ConnectOptions, /WebSocket must be a constructor/],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what}`, () => {
      const err = thrown(() => connect(URL_, options));
      expect(err.code).toBe("TL_INVALID_OPTION");
      expect(err.message).toMatch(message);
      // The value of a misspelled option may be a secret: never echoed.
      expect(err.message).not.toContain("secret");
    });
  }

  it("refuses transports: [\"websocket\"] where the runtime has no WebSocket, saying what to do", () => {
    vi.stubGlobal("WebSocket", undefined);
    const err = thrown(() => connectPlain(URL_, { transports: ["websocket"] }));
    expect(err.code).toBe("TL_INVALID_OPTION");
    expect(err.message).toContain("@throughline/client/node");
    expect(err.message).toContain("WebSocket option");
    // The Node entry brings ws: the same options are fine there.
    connect(URL_, { transports: ["websocket"], reconnect: false }).close();
  });

  it("connects with the default transports where the runtime has no WebSocket (WebSocket fails fast, the next one is tried)", async () => {
    vi.stubGlobal("WebSocket", undefined);
    server = await startTestServer();
    const ch = connectPlain(server.url, { topics: ["t"], negotiation: { staggerMs: 0 } });
    try {
      await new Promise<void>((resolve, reject) => {
        ch.on("open", () => resolve());
        ch.on("close", (info) => reject(new Error(`closed ${info.code}`)));
      });
      expect(ch.transport).not.toBe("websocket");
    } finally {
      ch.close();
    }
  });

  it("refuses a relative URL where there is no page to resolve it against", () => {
    const err = thrown(() => connect("/realtime"));
    expect(err.code).toBe("TL_INVALID_OPTION");
    expect(err.message).toMatch(/relative only in a page/);
  });

  it("resolves a relative URL against the page's location, as fetch and EventSource do", () => {
    vi.stubGlobal("location", { href: "https://app.example.com/inbox/42?tab=1" });
    const ch = connect("/realtime", { reconnect: false });
    try {
      expect(ch.url).toBe("https://app.example.com/realtime");
    } finally {
      ch.close();
    }
    const nested = connect("rt", { reconnect: false });
    try {
      expect(nested.url).toBe("https://app.example.com/inbox/rt");
    } finally {
      nested.close();
    }
  });
});

describe("credentials", () => {
  it("puts the credentials mode on every fetch request of every fetch transport, and still delivers", async () => {
    server = await startTestServer();
    for (const transport of ["sse", "long-poll"] as const) {
      const seen: Array<RequestCredentials | undefined> = [];
      const recording: typeof fetch = (input, init) => {
        seen.push(init?.credentials);
        return fetch(input, init);
      };
      const ch = connect(server.url, { topics: ["t"], transports: [transport], fetch: recording, credentials: "include" });
      try {
        const got = new Promise<unknown>((resolve) => ch.on("message", (m) => resolve(m.data)));
        await new Promise<void>((resolve) => ch.on("open", () => resolve()));
        server.rt.publish("t", { n: transport });
        expect(await got).toEqual({ n: transport });
        await ch.send({ ack: transport });
      } finally {
        ch.close();
      }
      expect(seen.length, transport).toBeGreaterThanOrEqual(2);
      expect(new Set(seen), transport).toEqual(new Set(["include"]));
    }
  });
});

describe("createServer() refuses configuration errors at once", () => {
  const cases: Array<[string, ServerOptions, RegExp]> = [
    ["a misspelled option, listing the known ones", { heartbeatMS: 5 } as ServerOptions, /unknown option `heartbeatMS` \(known: path, transports, heartbeatMs, /],
    ["a misspelled history option", { history: { sise: 5 } } as unknown as ServerOptions, /unknown option `history.sise` \(known: size, maxAgeMs, maxTopics\)/],
    ["a misspelled cors option", { cors: { origins: ["https://a.example"], credential: true } } as unknown as ServerOptions, /unknown option `cors.credential` \(known: origins, credentials, maxAgeSeconds\)/],
    ["an option nobody has", { websockets: true } as unknown as ServerOptions, /unknown option `websockets`/],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what}`, () => {
      const err = thrown(() => createServer(options));
      expect(err.code).toBe("TL_INVALID_OPTION");
      expect(err.message).toMatch(message);
    });
  }
});
