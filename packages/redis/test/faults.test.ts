/**
 * Redis faults (issue #12): unreachable, frozen, restarted with its data, flushed, restarted
 * empty, and restored from an older snapshot. Appends fail clearly and recover by themselves; a
 * history that may have gone backwards always becomes a new epoch, seen by every node as one gap.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import { waitFor, within } from "@throughline/testkit";
import type { BackplanePosition } from "../src/contract.js";
import { backplanes, recorder } from "./helpers.js";

let redis: RedisServer | undefined;
const nodes = backplanes(() => redis!.url);
afterEach(async () => {
  await nodes.closeAll();
  nodes.fresh();
  await redis?.close();
  redis = undefined;
});

/** Retries `op` until it succeeds (Redis coming back), each failure TL_BACKPLANE_UNAVAILABLE; bounded. */
async function whenBack<T>(op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      expect(err).toMatchObject({ code: "TL_BACKPLANE_UNAVAILABLE" });
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("Redis unreachable", () => {
  it("fails append, since and the stores with TL_BACKPLANE_UNAVAILABLE, then recovers by itself", async () => {
    redis = await startRedisServer({ persistence: "aof" });
    const a = nodes.make({ maxReconnectDelayMs: 100 });
    const b = nodes.make({ maxReconnectDelayMs: 100 });
    const seen = recorder();
    await b.subscribe(seen);
    const first = await a.append("t", "message", "before");
    await redis.stop();
    const errors = await within(
      Promise.allSettled([a.append("t", "message", "lost?"), a.since(["*"], first), a.tickets.redeem("x"), a.sessions.get("s"), a.counters.hit("ip", 1_000)]),
      "calls to fail while Redis is down",
    );
    for (const e of errors) {
      expect(e.status).toBe("rejected");
      const reason = (e as PromiseRejectedResult).reason as { code: string; message: string };
      expect(reason.code).toBe("TL_BACKPLANE_UNAVAILABLE");
      expect(reason.message).toMatch(/^Throughline: .* failed, Redis is unreachable or too slow/);
    }
    await waitFor(() => seen.changes.includes(false), "the ingest to report Redis unavailable");
    await redis.restart();
    const after = await whenBack(() => a.append("t", "message", "after"));
    expect(after).toEqual({ epoch: first.epoch, seq: 2 });
    await waitFor(() => seen.messages.length === 2, "the ingest to resume");
    expect(seen.messages.map((m) => m.data)).toEqual(["before", "after"]);
    expect(seen.gaps).toEqual([]);
    expect(seen.changes).toEqual([false, true]);
  });

  it("keeps pending appends bounded while Redis is frozen, never confirming what it did not store", async () => {
    redis = await startRedisServer({ persistence: "none" });
    const a = nodes.make({ commandTimeoutMs: 300, maxPendingCommands: 4 });
    const seen = recorder();
    await a.subscribe(seen);
    await a.append("t", "message", "0");
    redis.pause();
    try {
      const results = await within(Promise.allSettled(Array.from({ length: 20 }, (_, i) => a.append("t", "message", `frozen${i}`))), "appends to a frozen Redis to settle");
      const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string; message: string }) : undefined));
      expect(reasons.every((r) => r?.code === "TL_BACKPLANE_UNAVAILABLE")).toBe(true);
      // Past the bound, appends are refused at once instead of queueing.
      expect(reasons.filter((r) => /already wait for Redis/.test(r!.message))).toHaveLength(16);
    } finally {
      redis.resume();
    }
    const next = await whenBack(() => a.append("t", "message", "resumed"));
    await waitFor(() => seen.messages.at(-1)?.data === "resumed", "the ingest to see the next append");
    // The 4 timed-out appends reached Redis's socket and ran when it woke: not confirmed is not
    // "not stored". Whatever was stored is ingested in order, once.
    expect(seen.messages.map((m) => m.seq)).toEqual(Array.from({ length: next.seq }, (_, i) => i + 1));
    expect(next.seq).toBeLessThanOrEqual(6);
  });

  it("rejects calls still waiting on a frozen Redis with TL_CLOSED when closed", async () => {
    redis = await startRedisServer({ persistence: "none" });
    const a = nodes.make({ commandTimeoutMs: 60_000 });
    await a.append("t", "message", "0");
    redis.pause();
    try {
      const waiting = Promise.allSettled([a.append("t", "message", "1"), a.tickets.redeem("x")]);
      await a.close();
      const results = await within(waiting, "waiting calls to settle on close");
      expect(results.map((r) => r.status === "rejected" && (r.reason as { code: string }).code)).toEqual(["TL_CLOSED", "TL_CLOSED"]);
    } finally {
      redis.resume();
    }
  });
});

describe("Redis restarts and data loss", () => {
  it("restarting with its data (AOF) keeps the epoch and the sequence: no gap", async () => {
    redis = await startRedisServer({ persistence: "aof" });
    const a = nodes.make({ maxReconnectDelayMs: 100 });
    const seen = recorder();
    await nodes.make({ maxReconnectDelayMs: 100 }).subscribe(seen);
    for (let i = 1; i <= 5; i++) await a.append("t", "message", String(i));
    await redis.restart();
    const p = await whenBack(() => a.append("t", "message", "6"));
    expect(p.seq).toBe(6);
    await waitFor(() => seen.messages.length === 6, "all six ingested");
    expect(seen.gaps).toEqual([]);
    expect(new Set(seen.messages.map((m) => m.epoch))).toEqual(new Set([p.epoch]));
    const fresh = nodes.make();
    expect((await fresh.since(["*"], { epoch: p.epoch, seq: 2 })).messages.map((m) => m.data)).toEqual(["3", "4", "5", "6"]);
  });

  it.each([
    ["flushed without a restart", (r: RedisServer) => r.flush()],
    ["restarted without its data", (r: RedisServer) => r.restart({ keepData: false })],
  ])("%s: a new epoch, one gap at the exact point on every node, resumes see it too", async (_name, lose) => {
    redis = await startRedisServer({ persistence: "rdb" });
    const a = nodes.make({ maxReconnectDelayMs: 100, blockMs: 100 });
    const b = nodes.make({ maxReconnectDelayMs: 100, blockMs: 100 });
    const seenA = recorder();
    const seenB = recorder();
    await a.subscribe(seenA);
    await b.subscribe(seenB);
    let last: BackplanePosition | undefined;
    for (let i = 1; i <= 3; i++) last = await a.append("t", "message", `old${i}`);
    await waitFor(() => seenA.messages.length === 3 && seenB.messages.length === 3, "old messages ingested");
    await lose(redis);
    // Nodes notice on their own (empty read or reconnect), before anyone appends.
    await waitFor(() => seenA.gaps.length === 1 && seenB.gaps.length === 1, "both nodes to report the gap");
    const next = await whenBack(() => b.append("t", "message", "new1"));
    expect(next.epoch).not.toBe(last!.epoch);
    expect(next.seq).toBe(1);
    for (const seen of [seenA, seenB]) {
      expect(seen.gaps).toEqual([{ reason: "epoch", cursor: last, continueAfter: { epoch: next.epoch, seq: 0 } }]);
      await waitFor(() => seen.messages.length === 4, "the new epoch's first message");
      expect(seen.messages.at(-1)).toMatchObject({ epoch: next.epoch, seq: 1, data: "new1" });
    }
    const resume = await nodes.make().since(["t"], last!);
    expect(resume.gap).toEqual({ reason: "epoch", cursor: last, continueAfter: { epoch: next.epoch, seq: 0 } });
    expect(resume.messages.map((m) => m.data)).toEqual(["new1"]);
  });

  it("restored from an older snapshot: the sequence went backwards, so a node that saw more starts a new epoch", async () => {
    redis = await startRedisServer({ persistence: "aof" });
    const a = nodes.make({ maxReconnectDelayMs: 100 });
    const seen = recorder();
    await nodes.make({ maxReconnectDelayMs: 100 }).subscribe(seen);
    for (let i = 1; i <= 3; i++) await a.append("t", "message", `m${i}`);
    const snapshot = await redis.snapshot();
    let last: BackplanePosition | undefined;
    for (let i = 4; i <= 6; i++) last = await a.append("t", "message", `m${i}`);
    await waitFor(() => seen.messages.length === 6, "six ingested");
    await redis.restore(snapshot);
    // The snapshot still holds epoch E at seq 3; a naive append would hand out seq 4 again.
    await waitFor(() => seen.gaps.length === 1, "the ingesting node to detect the rewind");
    const p = await whenBack(() => a.append("t", "message", "after"));
    expect(p.epoch).not.toBe(last!.epoch);
    expect(p.seq).toBe(1);
    expect(seen.gaps[0]).toEqual({ reason: "epoch", cursor: last, continueAfter: { epoch: p.epoch, seq: 0 } });
  });

  it("restored from a snapshot taken before an earlier epoch change: the retired epoch does not come back", async () => {
    redis = await startRedisServer({ persistence: "rdb" });
    const a = nodes.make({ maxReconnectDelayMs: 100 });
    const e1 = await a.append("t", "message", "e1");
    const snapshot = await redis.snapshot();
    await redis.flush();
    const f1 = await a.append("t", "message", "f1");
    expect(f1.epoch).not.toBe(e1.epoch);
    await redis.restore(snapshot);
    // Redis now holds e1's epoch at seq 1 again; continuing it would reuse numbers clients of
    // that epoch may have passed (and their resumes would skip messages silently).
    const g1 = await whenBack(() => a.append("t", "message", "g1"));
    expect(g1.seq).toBe(1);
    expect([e1.epoch, f1.epoch]).not.toContain(g1.epoch);
    const resume = await a.since(["*"], e1);
    expect(resume.gap).toEqual({ reason: "epoch", cursor: e1, continueAfter: { epoch: g1.epoch, seq: 0 } });
  });

  it("restored from an older snapshot: a resume on a node that saw the cursor handed out starts a new epoch", async () => {
    redis = await startRedisServer({ persistence: "rdb" });
    const a = nodes.make({ maxReconnectDelayMs: 100 });
    for (let i = 1; i <= 2; i++) await a.append("t", "message", `m${i}`);
    const snapshot = await redis.snapshot();
    const last = await a.append("t", "message", "m3");
    await redis.restore(snapshot);
    const read = await whenBack(() => a.since(["*"], last));
    expect(read.gap).toMatchObject({ reason: "epoch", cursor: last, continueAfter: { seq: 0 } });
    expect(read.gap!.continueAfter.epoch).not.toBe(last.epoch);
  });

  it("restored from an older snapshot with no node remembering: a trusted client cursor ahead of the head proves it", async () => {
    redis = await startRedisServer({ persistence: "rdb" });
    const a = nodes.make();
    for (let i = 1; i <= 2; i++) await a.append("t", "message", `m${i}`);
    const snapshot = await redis.snapshot();
    const ahead = await a.append("t", "message", "m3");
    await nodes.closeAll();
    await redis.restore(snapshot);
    const untrusting = nodes.make({ trustClientCursors: false });
    expect((await untrusting.since(["*"], ahead)).gap).toEqual({ reason: "ahead", cursor: ahead, continueAfter: { epoch: ahead.epoch, seq: 2 } });
    const fresh = nodes.make({ trustClientCursors: true });
    const read = await fresh.since(["*"], ahead);
    expect(read.gap).toMatchObject({ reason: "epoch", cursor: ahead });
    expect(read.gap!.continueAfter.epoch).not.toBe(ahead.epoch);
    expect((await fresh.append("t", "message", "x")).epoch).toBe(read.gap!.continueAfter.epoch);
  });
});
