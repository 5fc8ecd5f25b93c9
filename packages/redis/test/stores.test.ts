/**
 * Shared state across nodes: tickets single-use whichever node redeems them and gone at expiry,
 * sessions readable from every node with a TTL, connection slots and rate windows counted across
 * nodes.
 */
import { describe, expect, it } from "vitest";
import { sleep } from "@throughline/testkit";
import { sharedRedis } from "./helpers.js";

const { nodes } = sharedRedis();

/** Waits (at most 5 s) for an answer of the store: releases are fire-and-forget. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

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
  it("cap slots across nodes, all keys or none, a holder counting once however many nodes hold it", async () => {
    const [a, b, c] = [nodes.make(), nodes.make(), nodes.make()];
    const slots = (user: string) => [
      { key: "addr:1", limit: 3 },
      { key: user, limit: 2 },
    ];
    expect(await a.counters.acquire("s1", slots("user:1"))).toBe(-1);
    expect(await b.counters.acquire("s2", slots("user:1"))).toBe(-1);
    // The user is at its limit (index 1); the address slot was not taken either.
    expect(await c.counters.acquire("s3", slots("user:1"))).toBe(1);
    expect(await c.counters.acquire("s3", slots("user:2"))).toBe(-1);
    expect(await c.counters.acquire("s4", slots("user:3"))).toBe(0);
    // The same holder on another node is the same slot.
    expect(await c.counters.acquire("s1", slots("user:1"))).toBe(-1);
    a.counters.release("s1", ["addr:1", "user:1"]);
    // The release is sent without waiting; a command after it on a's connection lands after it
    // (else c's renewal below could land first and be undone: failed once under load).
    await a.counters.hit("sync", 1_000);
    // c still holds s1: its renewal puts it back.
    await c.counters.renew();
    expect(await b.counters.acquire("s5", slots("user:1"))).toBe(0);
    c.counters.release("s1", ["addr:1", "user:1"]);
    await until(async () => (await b.counters.acquire("s5", slots("user:1"))) === -1, "s1's slot given back");
    await expect(a.counters.acquire("", slots("u"))).rejects.toMatchObject({ code: "TL_BAD_REQUEST" });
    await expect(a.counters.acquire("h", [{ key: "k", limit: -1 }])).rejects.toMatchObject({ code: "TL_INVALID_OPTION" });
  });

  it("renew the leases of a live node, and free a dead node's slots when its lease runs out", async () => {
    const live = nodes.make({ leaseMs: 300 });
    const dead = nodes.make({ leaseMs: 300 });
    const other = nodes.make({ leaseMs: 300 });
    expect(await live.counters.acquire("kept", [{ key: "user:9", limit: 2 }])).toBe(-1);
    expect(await dead.counters.acquire("lost", [{ key: "user:9", limit: 2 }])).toBe(-1);
    expect(await other.counters.acquire("x", [{ key: "user:9", limit: 2 }])).toBe(0);
    // A node killed without releasing: it stops renewing (close() here releases nothing either).
    await dead.close();
    await sleep(900);
    // Three leases later: the dead node's slot is free, the live node's is still held.
    expect(await other.counters.acquire("x", [{ key: "user:9", limit: 2 }])).toBe(-1);
    expect(await other.counters.acquire("y", [{ key: "user:9", limit: 2 }])).toBe(0);
  });

  it("a fixed lease is not renewed; a hold is counted once written by a renewal", async () => {
    const [a, b] = [nodes.make({ leaseMs: 5_000 }), nodes.make()];
    expect(await a.counters.acquire("ticket-1", [{ key: "t:alice", limit: 1 }], 150)).toBe(-1);
    expect(await b.counters.acquire("ticket-2", [{ key: "t:alice", limit: 1 }], 150)).toBe(0);
    await sleep(400);
    expect(await b.counters.acquire("ticket-2", [{ key: "t:alice", limit: 1 }], 150)).toBe(-1);
    b.counters.release("ticket-2", ["t:alice"]); // redeemed on another node than the issuer's
    await until(async () => (await a.counters.acquire("ticket-3", [{ key: "t:alice", limit: 1 }], 150)) === -1, "the redeemed ticket no longer counts");
    a.counters.hold("offline", ["user:5"]);
    expect(a.counters.held).toBe(1);
    await a.counters.renew();
    expect(await b.counters.acquire("s", [{ key: "user:5", limit: 1 }])).toBe(0);
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
