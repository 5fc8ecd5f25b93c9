/**
 * Every node ingests every node's messages exactly once, in the shared order: nodes as several
 * backplanes in this process, as child processes, and as a fast-check property over arbitrary
 * interleavings of appends.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor, within } from "@throughline/testkit";
import { redisCommand } from "@throughline/testkit/redis";
import { build } from "../../../scripts/build.mjs";
import type { BackplaneMessage } from "../src/contract.js";
import { recorder, sharedRedis, type Recorder } from "./helpers.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const { nodes, url } = sharedRedis();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Asserts a node ingested exactly seq 1..n of one epoch, each once, and returns the data in order. */
function contiguous(messages: readonly Pick<BackplaneMessage, "epoch" | "seq" | "data">[], n: number): string[] {
  expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(new Set(messages.map((m) => m.epoch)).size).toBe(1);
  return messages.map((m) => m.data);
}

describe("ingest across nodes", () => {
  it("delivers every node's appends to every node once, in one order, with the positions append resolved", async () => {
    const names = ["a", "b", "c"];
    const recs: Recorder[] = [];
    const made = names.map(() => nodes.make());
    for (const b of made) {
      const r = recorder();
      recs.push(r);
      await b.subscribe(r);
    }
    const positions = new Map<string, number>();
    // Concurrent appends from three nodes, each in its own order.
    await Promise.all(
      made.map(async (b, n) => {
        for (let i = 0; i < 30; i++) {
          const data = `${names[n]}${i}`;
          positions.set(data, (await b.append(`t${i % 4}`, "message", data)).seq);
        }
      }),
    );
    await waitFor(() => recs.every((r) => r.messages.length >= 90), "every node ingested 90 messages");
    const order = contiguous(recs[0]!.messages, 90);
    for (const r of recs) {
      expect(r.gaps).toEqual([]);
      expect(r.messages.map((m) => m.data)).toEqual(order);
    }
    for (const m of recs[0]!.messages) expect(positions.get(m.data)).toBe(m.seq);
    // Each node's own appends keep their order in the shared sequence.
    for (const name of names) {
      const own = order.filter((d) => d.startsWith(name));
      expect(own).toEqual(Array.from({ length: 30 }, (_, i) => `${name}${i}`));
    }
  });

  it("hands each message to every listener of a node, and a throwing listener stops no one", async () => {
    const b = nodes.make();
    const first = recorder();
    const second = recorder();
    const errors: unknown[] = [];
    const onError = (err: unknown) => void errors.push(err);
    process.on("uncaughtException", onError);
    try {
      await b.subscribe({ message: () => { throw new Error("listener bug"); }, gap() {} });
      await b.subscribe(first);
      const off = await b.subscribe(second);
      await b.append("t", "message", "1");
      await waitFor(() => first.messages.length === 1 && second.messages.length === 1, "both listeners got message 1");
      off();
      await b.append("t", "message", "2");
      await waitFor(() => first.messages.length === 2, "the remaining listener got message 2");
      expect(second.messages).toHaveLength(1);
      await waitFor(() => errors.length >= 2, "the listener's errors surfaced");
    } finally {
      process.off("uncaughtException", onError);
    }
  });

  it("works across processes: two child nodes and one here", async () => {
    await build({ quiet: true });
    const prefix = `p${Date.now().toString(36)}:`;
    const per = 40;
    const total = per * 3;
    const here = nodes.make({ keyPrefix: prefix });
    const mine = recorder();
    await here.subscribe(mine);
    const outputs: Promise<{ ingested: [string, number, string, string][]; appended: [string, number, string][] }>[] = [];
    const ready: Promise<void>[] = [];
    for (const name of ["x", "y"]) {
      const child = spawn(process.execPath, [join(HERE, "fixtures/node.mjs"), url(), prefix, name, String(per), String(total)], { stdio: ["pipe", "pipe", "inherit"] });
      children.push(child);
      const lines = createInterface({ input: child.stdout! });
      const it = lines[Symbol.asyncIterator]();
      ready.push(it.next().then((l) => expect(l.value).toBe("ready")));
      outputs.push(it.next().then((l) => JSON.parse(l.value as string)));
    }
    await within(Promise.all(ready), "children ready", 20_000);
    for (const c of children) c.stdin!.write("go\n");
    for (let i = 0; i < per; i++) await here.append(`topic-${i % 3}`, "message", JSON.stringify({ node: "z", i }));
    const results = await within(Promise.all(outputs), "children finished", 30_000);
    await waitFor(() => mine.messages.length >= total, "this node ingested everything");
    const order = contiguous(mine.messages, total);
    for (const r of results) {
      expect(r.ingested.map(([, seq]) => seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(r.ingested.map(([, , , data]) => data)).toEqual(order);
      for (const [epoch, seq, data] of r.appended) expect(mine.messages[seq - 1]).toMatchObject({ epoch, seq, data });
    }
  });

  it("reports an evicted gap at the exact point when history was trimmed past a busy node", async () => {
    await build({ quiet: true });
    const prefix = `e${Date.now().toString(36)}:`;
    const writer = nodes.make({ keyPrefix: prefix, historyLength: 10 });
    const busy = nodes.make({ keyPrefix: prefix, historyLength: 10, readBatch: 1 });
    const seen = recorder();
    let blocked = false;
    await busy.subscribe({
      ...seen,
      message(m) {
        seen.message(m);
        if (blocked) return;
        blocked = true;
        // This node's event loop is stuck while another process appends far past the history.
        execFileSync(process.execPath, [join(HERE, "fixtures/append.mjs"), url(), prefix, "400", "10"], { timeout: 60_000 });
      },
    });
    const first = await writer.append("t", "message", "first");
    await waitFor(() => seen.messages.at(-1)?.data === "bulk399", "the busy node to catch up");
    expect(seen.gaps).toHaveLength(1);
    const gap = seen.gaps[0]!;
    expect(gap).toMatchObject({ reason: "evicted", cursor: { epoch: first.epoch, seq: 1 } });
    // Delivered: message 1, then exactly the retained tail after the gap, contiguous.
    const after = seen.messages.slice(1).map((m) => m.seq);
    expect(after[0]).toBe(gap.continueAfter.seq + 1);
    expect(after).toEqual(Array.from({ length: 401 - gap.continueAfter.seq }, (_, i) => gap.continueAfter.seq + 1 + i));
    expect(gap.continueAfter.seq).toBeGreaterThan(1);
  });

  it("steps over log entries it did not write (no replay loop, nothing else skipped)", async () => {
    const prefix = `f${Date.now().toString(36)}:`;
    const a = nodes.make({ keyPrefix: prefix, blockMs: 50 });
    const seen = recorder();
    await a.subscribe(seen);
    const first = await a.append("t", "message", "1");
    const port = Number(new URL(url()).port);
    // Ids 2 and 3 by another writer (numbers taken first, as the append script does): one
    // without our fields, one claiming another epoch.
    await redisCommand(port, ["HSET", `${prefix}{h}:meta`, "seq", "3"]);
    expect(await redisCommand(port, ["XADD", `${prefix}{h}:log`, "2-0", "x", "y"])).toMatch(/^\$/);
    expect(await redisCommand(port, ["XADD", `${prefix}{h}:log`, "3-0", "p", "zzz", "t", "t", "e", "message", "d", "forged"])).toMatch(/^\$/);
    const next = await a.append("t", "message", "4");
    expect(next).toEqual({ epoch: first.epoch, seq: 4 });
    await waitFor(() => seen.messages.length === 2, "the node to ingest past the foreign entries");
    expect(seen.messages.map((m) => [m.seq, m.data])).toEqual([[1, "1"], [4, "4"]]);
    expect(seen.gaps).toEqual([]);
  });

  it("property: every appended message is ingested exactly once, in order, by every node", async () => {
    const plan = fc.array(fc.record({ node: fc.nat({ max: 2 }), topic: fc.constantFrom("a", "b", "c"), data: fc.string({ maxLength: 20 }) }), { minLength: 1, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(plan, fc.boolean(), async (steps, concurrent) => {
        nodes.fresh();
        const made = [nodes.make(), nodes.make(), nodes.make()];
        const recs = [recorder(), recorder(), recorder()];
        await Promise.all(made.map((b, i) => b.subscribe(recs[i]!)));
        const tagged = steps.map((s, i) => ({ ...s, data: `${i}:${s.data}` }));
        if (concurrent) {
          // Each node appends its own steps in order; the nodes run at once.
          await Promise.all(made.map(async (b, n) => {
            for (const s of tagged) if (s.node === n) await b.append(s.topic, "message", s.data);
          }));
        } else {
          for (const s of tagged) await made[s.node]!.append(s.topic, "message", s.data);
        }
        await waitFor(() => recs.every((r) => r.messages.length >= tagged.length), "every node ingested the plan");
        const order = contiguous(recs[0]!.messages, tagged.length);
        for (const r of recs) {
          expect(r.messages.map((m) => m.data)).toEqual(order);
          expect(r.gaps).toEqual([]);
        }
        expect([...order].sort()).toEqual(tagged.map((s) => s.data).sort());
        if (!concurrent) expect(order).toEqual(tagged.map((s) => s.data));
        for (const n of [0, 1, 2]) expect(order.filter((d) => tagged.find((s) => s.data === d)!.node === n)).toEqual(tagged.filter((s) => s.node === n).map((s) => s.data));
        await nodes.closeAll();
      }),
      { numRuns: 25 },
    );
  });
});
