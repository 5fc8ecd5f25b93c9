/**
 * Shared state across nodes: tickets single-use whichever node redeems them and gone at expiry,
 * sessions readable from every node with a TTL, connection slots and rate windows counted across
 * nodes.
 */
import { describe, expect, it } from "vitest";
import { sleep } from "@throughline/testkit";
import { sharedRedis } from "./helpers.js";

const { nodes } = sharedRedis();

describe("tickets", () => {
  it("are redeemed once across nodes, even when every node tries at the same time", async () => {
    const made = Array.from({ length: 5 }, () => nodes.make());
    for (let round = 0; round < 20; round++) {
      const ticket = `tk${round}`;
      expect(await made[round % 5]!.tickets.issue(ticket, `user-${round}`, 10_000)).toBe(true);
      const results = await Promise.all(made.map((b) => b.tickets.redeem(ticket)));
      expect(results.filter((r) => r !== undefined)).toEqual([`user-${round}`]);
      expect(await made[0]!.tickets.redeem(ticket)).toBeUndefined();
    }
  });

  it("are never overwritten and are gone after their expiry", async () => {
    const [a, b] = [nodes.make(), nodes.make()];
    expect(await a.tickets.issue("t1", "alice", 150)).toBe(true);
    expect(await b.tickets.issue("t1", "mallory", 10_000)).toBe(false);
    await sleep(400);
    expect(await b.tickets.redeem("t1")).toBeUndefined();
    await expect(a.tickets.issue("", "x", 100)).rejects.toMatchObject({ code: "TL_BAD_REQUEST" });
    await expect(a.tickets.issue("t2", "x", 0)).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });
});

describe("sessions", () => {
  it("are seen by every node, touched, deleted and expired", async () => {
    const [a, b] = [nodes.make(), nodes.make()];
    const session = { user: "u1", topics: ["alerts", "news"], cursor: "abc-12" };
    await a.sessions.put("s1", session, 10_000);
    expect(await b.sessions.get("s1")).toEqual(session);
    await b.sessions.put("s1", { ...session, cursor: "abc-13" }, 10_000);
    expect((await a.sessions.get("s1"))?.cursor).toBe("abc-13");
    expect(await a.sessions.touch("s1", 150)).toBe(true);
    await sleep(400);
    expect(await b.sessions.get("s1")).toBeUndefined();
    expect(await b.sessions.touch("s1", 1_000)).toBe(false);
    await a.sessions.put("s2", { user: null, topics: [], cursor: null }, 10_000);
    await b.sessions.delete("s2");
    expect(await a.sessions.get("s2")).toBeUndefined();
  });
});

describe("counters", () => {
  it("cap connections across nodes, renew and release slots, and free a dead holder's slot at lease end", async () => {
    const [a, b] = [nodes.make(), nodes.make()];
    expect(await a.counters.acquire("user:1", "conn-a", 2, 10_000)).toBe(true);
    expect(await b.counters.acquire("user:1", "conn-b", 2, 10_000)).toBe(true);
    expect(await b.counters.acquire("user:1", "conn-c", 2, 10_000)).toBe(false);
    // Renewing a held slot is not a new slot.
    expect(await a.counters.acquire("user:1", "conn-a", 2, 10_000)).toBe(true);
    await a.counters.release("user:1", "conn-a");
    expect(await b.counters.acquire("user:1", "conn-c", 2, 10_000)).toBe(true);
    // A holder whose node died: its lease runs out.
    expect(await a.counters.acquire("ip:1", "dead", 1, 150)).toBe(true);
    expect(await b.counters.acquire("ip:1", "live", 1, 10_000)).toBe(false);
    await sleep(400);
    expect(await b.counters.acquire("ip:1", "live", 1, 10_000)).toBe(true);
  });

  it("count rate-limit hits of every node in one window", async () => {
    const [a, b] = [nodes.make(), nodes.make()];
    const counts = [];
    for (let i = 0; i < 3; i++) {
      counts.push(await a.counters.hit("poll:1.2.3.4", 60_000));
      counts.push(await b.counters.hit("poll:1.2.3.4", 60_000));
    }
    expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await a.counters.hit("poll:other", 60_000)).toBe(1);
  });
});
