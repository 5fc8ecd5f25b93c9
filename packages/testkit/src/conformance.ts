/**
 * The conformance suite: one set of behaviours every transport must show, written once and run
 * against each transport over real loopback sockets (and, through `via`, behind any proxy).
 * Registers vitest tests; call it at the top level of a test file.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type Channel, type ConnectOptions } from "@throughline/client/node";
import type { ServerOptions } from "@throughline/server";
import type { GapFrame, Message, TransportName } from "@throughline/wire";
import { startTestServer, type Mount, type TestServer } from "./harness.js";
import { sleep, waitFor, within } from "./wait.js";

export interface ConformanceOptions {
  /** Label for the describe block, e.g. the proxy in between. */
  readonly label?: string;
  /** Puts something between client and server: gets the server's base URL, returns the one to connect to. */
  readonly via?: (serverUrl: string) => Promise<{ url: string; close(): Promise<void> }>;
  readonly serverOptions?: ServerOptions;
  readonly connectOptions?: ConnectOptions;
  /** How the hub is served (default: `attach()` on node:http); e.g. through the Fetch handler. */
  readonly mount?: Mount;
}

function once<T>(ch: Channel, event: string): Promise<T> {
  return new Promise((resolve) => {
    const off = ch.on(event as "open", ((value: T) => {
      off();
      resolve(value);
    }) as never);
  });
}

/** Strings that break naive codecs: line ends of every kind, separators, astral and empty. */
export const AWKWARD_STRINGS: readonly string[] = Object.freeze([
  "",
  "plain",
  "two\nlines",
  "cr\rlf\r\ncrlf\n\nblank line",
  "data: not a field\n\nid: 7\n",
  "ünïcödé — 日本語 — 🌍🚀 — \u2028\u2029",
  ": looks like a comment",
  "\u0000nul and \u001b escape",
]);

export function describeConformance(transport: TransportName, options: ConformanceOptions = {}): void {
  const title = `conformance: ${transport}${options.label ? ` via ${options.label}` : ""}`;
  describe(title, () => {
    let server: TestServer;
    let url: string;
    let closeVia: (() => Promise<void>) | undefined;
    let channels: Channel[] = [];

    beforeEach(async () => {
      server = await startTestServer(options.serverOptions, options.mount);
      url = server.url;
      if (options.via) {
        const v = await options.via(server.url);
        url = v.url;
        closeVia = () => v.close();
      }
    });

    afterEach(async () => {
      for (const ch of channels) ch.close();
      channels = [];
      await closeVia?.();
      closeVia = undefined;
      await server.close();
    });

    const open = async (extra: ConnectOptions = {}): Promise<Channel> => {
      const ch = connect(url, {
        transports: [transport],
        reconnect: { minDelayMs: 20, maxDelayMs: 300 },
        ...options.connectOptions,
        ...extra,
      });
      channels.push(ch);
      await within(once(ch, "open"), `${transport} to open`);
      return ch;
    };

    const collect = (ch: Channel): Message[] => {
      const got: Message[] = [];
      ch.on("*", (m) => got.push(m));
      return got;
    };

    it("connects and reports the transport, the session and the open state", async () => {
      const ch = await open();
      expect(ch.transport).toBe(transport);
      expect(ch.readyState).toBe(1);
      expect(ch.session).toMatch(/^[A-Za-z0-9_-]+$/);
      await waitFor(() => server.rt.connectionCount >= 1, "the server to count the connection");
    });

    it("delivers messages in publish order with their ids, topics and event names", async () => {
      const ch = await open({ topics: ["orders"] });
      const got = collect(ch);
      const custom: Message[] = [];
      ch.on("shipped", (m) => custom.push(m));
      const ids = [
        server.rt.publish("orders", { n: 1 }),
        server.rt.publish("orders", "two", { event: "shipped" }),
        server.rt.publish("orders", [3, null, true]),
        server.rt.publish("orders", 4.5, { event: "shipped" }),
      ];
      await waitFor(() => got.length >= 4, "four messages");
      expect(got.map((m) => m.id)).toEqual(ids);
      expect(got.map((m) => m.topic)).toEqual(["orders", "orders", "orders", "orders"]);
      expect(got.map((m) => m.event)).toEqual(["message", "shipped", "message", "shipped"]);
      expect(got.map((m) => m.data)).toEqual([{ n: 1 }, "two", [3, null, true], 4.5]);
      expect(custom.map((m) => m.id)).toEqual([ids[1], ids[3]]);
      expect(ch.cursor).toBe(ids[3]);
    });

    it("delivers only the topics a channel subscribed to", async () => {
      const a = await open({ topics: ["a"] });
      const all = await open();
      const gotA = collect(a);
      const gotAll = collect(all);
      server.rt.publish("b", "for b");
      server.rt.publish("a", "for a");
      server.rt.publish("c", "for c");
      await waitFor(() => gotAll.length >= 3 && gotA.length >= 1, "topic deliveries");
      await sleep(100);
      expect(gotA.map((m) => m.data)).toEqual(["for a"]);
      expect(gotAll.map((m) => m.data)).toEqual(["for b", "for a", "for c"]);
    });

    it("sends client→server messages that reach the application", async () => {
      const ch = await open();
      await ch.send({ ack: 1, text: "ünïcödé\nline" });
      await ch.send("second");
      await waitFor(() => server.received.length >= 2, "two client messages");
      expect(server.received).toEqual([{ ack: 1, text: "ünïcödé\nline" }, "second"]);
    });

    it("closes for good when the server closes the session with 1000", async () => {
      const ch = await open();
      const closed = once<{ code: number; reason: string }>(ch, "close");
      let reopened = 0;
      ch.on("open", () => reopened++);
      server.rt.getSession(ch.session!)!.close(1000, "bye");
      const info = await within(closed, "the close event");
      expect(info.code).toBe(1000);
      expect(info.reason).toBe("bye");
      expect(ch.readyState).toBe(2);
      await sleep(300);
      expect(reopened).toBe(0);
      expect(ch.readyState).toBe(2);
    });

    it("closes once when the client closes, and the server lets go of the connection", async () => {
      const ch = await open();
      await waitFor(() => server.rt.connectionCount >= 1, "the connection");
      const events: number[] = [];
      ch.on("close", (info) => events.push(info.code));
      ch.close();
      ch.close();
      expect(ch.readyState).toBe(2);
      await waitFor(() => events.length === 1, "one close event");
      await waitFor(() => server.rt.connectionCount === 0, "the server to drop the connection");
      await expect(ch.send("late")).rejects.toMatchObject({ code: "TL_CLOSED" });
      await sleep(100);
      expect(events).toEqual([1000]);
    });

    it("reconnects on its own after a server restart and reports the gap of the new epoch", async () => {
      const ch = await open({ topics: ["news"] });
      const got = collect(ch);
      const gaps: GapFrame[] = [];
      ch.on("gap", (g) => gaps.push(g));
      server.rt.publish("news", "before");
      await waitFor(() => got.length === 1, "the first message");
      let opens = 0;
      ch.on("open", () => opens++);
      await server.restart();
      await within(
        (async () => {
          while (opens < 1) await sleep(10);
        })(),
        "the channel to reopen",
        15_000,
      );
      expect(ch.readyState).toBe(1);
      server.rt.publish("news", "after");
      await waitFor(() => got.length === 2, "a message from the restarted server");
      expect(got.map((m) => m.data)).toEqual(["before", "after"]);
      expect(gaps.map((g) => g.reason)).toEqual(["epoch"]);
    });

    it("carries unicode, multi-line and awkward payloads byte for byte", async () => {
      const ch = await open({ topics: ["t"] });
      const got = collect(ch);
      for (const s of AWKWARD_STRINGS) server.rt.publish("t", s, { event: "ünï-event" });
      server.rt.publish("t", { nested: [...AWKWARD_STRINGS] });
      await waitFor(() => got.length === AWKWARD_STRINGS.length + 1, "all awkward payloads");
      expect(got.map((m) => m.data)).toEqual([...AWKWARD_STRINGS, { nested: [...AWKWARD_STRINGS] }]);
      expect(got[0]!.event).toBe("ünï-event");
    });

    it("carries a 1 MB message", async () => {
      const ch = await open({ topics: ["big"] });
      const got = collect(ch);
      const big = "é🌍x\n".repeat(131_072); // 1 MiB of UTF-8 (8 bytes a repeat)
      server.rt.publish("big", big);
      server.rt.publish("big", "after big");
      await waitFor(() => got.length === 2, "the 1 MB message", 20_000);
      expect(got[0]!.data).toBe(big);
      expect(got[1]!.data).toBe("after big");
    });

    it("ends async iteration when the channel closes", async () => {
      const ch = await open({ topics: ["it"] });
      const seen: unknown[] = [];
      const done = (async () => {
        for await (const m of ch) {
          seen.push(m.data);
          if (seen.length === 2) ch.close();
        }
      })();
      server.rt.publish("it", 1);
      server.rt.publish("it", 2);
      await within(done, "iteration to end");
      expect(seen).toEqual([1, 2]);
    });
  });
}
