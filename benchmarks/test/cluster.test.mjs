// A tiny run of the cluster scenario on real processes: redis-server from the testkit, three
// Throughline nodes on the backplane and three Socket.IO nodes on the redis adapter, the built
// dist (built here first, as the other tests on dist do). Asserts deliveries, never timings.
import { beforeAll, describe, expect, it } from "vitest";
import { build } from "../../scripts/build.mjs";
import { decidePinning } from "../lib/pin.mjs";
import { killAll } from "../lib/proc.mjs";
import { runCluster } from "../scenarios/cluster.mjs";
import { systemById } from "../systems.mjs";

describe("cluster scenario", () => {
  beforeAll(() => build({ quiet: true }), 180_000);

  it("measures one node and three nodes on Redis for Throughline and Socket.IO, with every message delivered", async () => {
    try {
      const { rows, redis } = await runCluster([systemById("throughline-ws"), systemById("socketio-ws")], {
        nodes: 3,
        n: 6,
        rate: 20,
        size: 64,
        durationMs: 500,
        rounds: 2,
        warmupMs: 200,
        pin: decidePinning("auto"),
      });
      expect(rows.filter((r) => r.scenario === "error")).toEqual([]);
      expect(redis?.version).toMatch(/^\d+\.\d+/);
      expect(rows.map((r) => `${r.system} ${r.setup}`)).toEqual(["throughline-ws 1 node", "throughline-ws 3 nodes + Redis", "socketio-ws 1 node", "socketio-ws 3 nodes + Redis"]);
      for (const r of rows) {
        expect(r.open).toBe(6);
        expect(r.published).toBeGreaterThan(0);
        expect(r.delivered).toBe(r.published * 6);
        expect(r.lost).toBe(0);
        expect(r.p99).toBeGreaterThan(0);
        expect(r.rounds).toHaveLength(2);
        expect(r.cpuUsPerDelivery).toBeGreaterThan(0);
      }
    } finally {
      killAll();
    }
  }, 120_000);
});
