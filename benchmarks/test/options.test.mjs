import { describe, expect, it } from "vitest";
import { DEFAULTS, parseOptions } from "../run.mjs";
import { rateWindow } from "../scenarios/cpu-rate.mjs";
import { spread } from "../scenarios/cluster.mjs";

describe("parseOptions: pinning, high rates and the cluster scenario", () => {
  it("runs the cluster scenario by default, pins automatically, and measures CPU at 1,000 and 5,000 msg/s", () => {
    const o = parseOptions([]);
    expect(DEFAULTS.scenarios.split(",")).toContain("cluster");
    expect(o.scenarios).toContain("cluster");
    expect(o.pin).toBe("auto");
    expect(o.cpuRates).toEqual([1000, 5000]);
    expect(o.cluster.nodes).toBe(3);
    expect(o.cluster.n).toBe(300);
    expect(o.cluster.systems.map((s) => s.id)).toEqual(["throughline-sse", "throughline-ws", "socketio-ws"]);
  });

  it("takes the new options", () => {
    const o = parseOptions(["--scenarios", "cpu,latency,cluster", "--pin", "off", "--cpu-rates", "2000", "--cluster-systems", "socketio-ws", "--cluster-nodes", "2", "--cluster-subscribers", "30"]);
    expect(o.scenarios).toEqual(["cpu", "latency", "cluster"]);
    expect(o.pin).toBe("off");
    expect(o.cpuRates).toEqual([2000]);
    expect(o.cluster).toMatchObject({ nodes: 2, n: 30 });
    expect(o.cluster.systems.map((s) => s.id)).toEqual(["socketio-ws"]);
  });

  it("rejects bad values with a message naming the option", () => {
    expect(() => parseOptions(["--pin", "yes"])).toThrow("--pin must be auto or off (got yes)");
    expect(() => parseOptions(["--cluster-systems", "raw-ws"])).toThrow('unknown cluster system "raw-ws"');
    expect(() => parseOptions(["--cluster-nodes", "0"])).toThrow("--cluster-nodes must be a positive integer (got 0)");
    expect(() => parseOptions(["--cpu-rates", "1000,fast"])).toThrow("--cpu-rates must be a positive integer (got fast)");
    expect(() => parseOptions(["--scenarios", "clusters"])).toThrow('unknown scenario "clusters"');
  });
});

describe("high-rate window and subscriber spread", () => {
  it("holds a high-rate run to 100 ms of the offered rate, at least 16 messages, never more than fan-out's window", () => {
    expect(rateWindow(1000, 64, 1000)).toBe(100);
    expect(rateWindow(1000, 64, 5000)).toBe(500);
    expect(rateWindow(1000, 64, 100)).toBe(16);
    expect(rateWindow(10_000, 4096, 5000)).toBe(4);
  });

  it("spreads subscribers evenly over the nodes", () => {
    expect(spread(1000, 3)).toEqual([334, 333, 333]);
    expect(spread(6, 3)).toEqual([2, 2, 2]);
    expect(spread(1000, 1)).toEqual([1000]);
  });
});
