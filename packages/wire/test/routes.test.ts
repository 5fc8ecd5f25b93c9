import { describe, expect, it } from "vitest";
import { LAST_EVENT_ID_HEADER, MARKER_HEADER, MARKER_VALUE, QUERY, ROUTES, buildUrl, toWebSocketUrl } from "@throughline/wire";

describe("route and header names", () => {
  it("names the routes of the protocol", () => {
    expect(ROUTES).toEqual({ sse: "/sse", websocket: "/ws", poll: "/poll", send: "/send", ticket: "/ticket" });
    expect(Object.isFrozen(ROUTES)).toBe(true);
  });

  it("names the query parameters of the protocol", () => {
    expect(QUERY).toEqual({ topics: "topics", session: "session", cursor: "cursor", lastEventId: "lastEventId", ticket: "ticket", connect: "connect", propose: "propose" });
    expect(Object.isFrozen(QUERY)).toBe(true);
  });

  it("uses lowercase header names, as Node reports incoming headers", () => {
    expect(MARKER_HEADER).toBe("x-throughline");
    expect(MARKER_VALUE).toBe("1");
    expect(LAST_EVENT_ID_HEADER).toBe("last-event-id");
  });
});

describe("buildUrl", () => {
  it("appends the route to the base path", () => {
    expect(buildUrl("http://127.0.0.1:8080/realtime", ROUTES.sse)).toBe("http://127.0.0.1:8080/realtime/sse");
  });

  it("does not double a trailing slash of the base path", () => {
    expect(buildUrl("http://h/realtime/", ROUTES.sse)).toBe("http://h/realtime/sse");
    expect(buildUrl("http://h/realtime///", ROUTES.poll)).toBe("http://h/realtime/poll");
  });

  it("works on a bare origin, with or without a slash", () => {
    expect(buildUrl("http://h", ROUTES.websocket)).toBe("http://h/ws");
    expect(buildUrl("http://h/", ROUTES.websocket)).toBe("http://h/ws");
  });

  it("keeps a nested base path", () => {
    expect(buildUrl("https://h/api/v2/rt", ROUTES.send)).toBe("https://h/api/v2/rt/send");
  });

  it("keeps the base query and adds the parameters after it", () => {
    expect(buildUrl("http://h/rt?token=abc&x=1", ROUTES.sse, { topics: "a,b", session: "s1" })).toBe(
      "http://h/rt/sse?token=abc&x=1&topics=a%2Cb&session=s1",
    );
  });

  it("leaves out undefined parameters and keeps empty ones", () => {
    expect(buildUrl("http://h/rt", ROUTES.poll, { cursor: undefined, session: "" })).toBe("http://h/rt/poll?session=");
  });

  it("leaves out null parameters (the client's session and cursor while it has none)", () => {
    expect(buildUrl("http://h/rt", ROUTES.poll, { cursor: null, session: null, topics: "a" })).toBe("http://h/rt/poll?topics=a");
  });

  it("lets a parameter replace a base query parameter of the same name", () => {
    expect(buildUrl("http://h/rt?topics=old", ROUTES.sse, { topics: "new" })).toBe("http://h/rt/sse?topics=new");
  });

  it("encodes parameter values so they cannot break the query", () => {
    const url = new URL(buildUrl("http://h/rt", ROUTES.sse, { cursor: "a&b=c#d e" }));
    expect(url.searchParams.get("cursor")).toBe("a&b=c#d e");
    expect([...url.searchParams.keys()]).toEqual(["cursor"]);
    expect(url.hash).toBe("");
  });

  it("keeps the base URL's port and credentials-free host", () => {
    const url = new URL(buildUrl("https://example.com:8443/rt", ROUTES.sse));
    expect(url.host).toBe("example.com:8443");
    expect(url.pathname).toBe("/rt/sse");
  });
});

describe("toWebSocketUrl", () => {
  it("turns http into ws and https into wss", () => {
    expect(toWebSocketUrl("http://h:1/rt/ws?session=s")).toBe("ws://h:1/rt/ws?session=s");
    expect(toWebSocketUrl("https://h/rt/ws")).toBe("wss://h/rt/ws");
  });

  it("handles an uppercase scheme", () => {
    expect(new URL(toWebSocketUrl("HTTPS://h/rt/ws")).protocol).toBe("wss:");
    expect(new URL(toWebSocketUrl("HTTP://h/rt/ws")).protocol).toBe("ws:");
  });

  it("leaves ws URLs and the rest of the URL alone", () => {
    expect(toWebSocketUrl("wss://h/rt/ws")).toBe("wss://h/rt/ws");
    expect(toWebSocketUrl("http://h/rt/ws?next=http://x")).toBe("ws://h/rt/ws?next=http://x");
  });

  it("composes with buildUrl", () => {
    expect(toWebSocketUrl(buildUrl("https://h/rt/", ROUTES.websocket, { cursor: "e-1" }))).toBe("wss://h/rt/ws?cursor=e-1");
  });
});
