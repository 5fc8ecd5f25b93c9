// A fixed-rate run stamps each message with the time it was due, not when a stalled publisher got
// to it (servers/common.mjs, coordinated omission): a real child process with a stalling system.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Child, killAll } from "../lib/proc.mjs";

const fixture = fileURLToPath(new URL("./fixtures/stalling-system.mjs", import.meta.url));

describe("fixed-rate publishing", () => {
  it("counts latency from the schedule, so a publisher held back by its server is charged for the wait", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tl-bench-")), "log.json");
    const child = new Child(fixture, [file], { name: "stalling system" });
    try {
      await child.wait((m) => m.type === "listening", 10_000, "listening");
      // 100 msg/s for 600 ms against a publish that takes 25 ms: it falls further behind each message.
      const started = await child.request({ cmd: "run", mode: "rate", size: 64, rate: 100, durationMs: 600 }, "started", 10_000);
      await child.wait((m) => m.type === "done", 10_000, "done");
      child.send({ cmd: "exit" });
      await child.wait(() => false, 5_000, "exit").catch(() => {});
      const log = JSON.parse(readFileSync(file, "utf8"));
      expect(log.length).toBeGreaterThan(5);
      expect(log[0][0]).toBe(started.first);
      // Due every 10 ms exactly, whatever the stalls.
      for (let i = 1; i < log.length; i++) expect(log[i][1] - log[i - 1][1]).toBeCloseTo(10, 6);
      // Published later and later: the wait is in the latency the clients compute from `t`.
      const waits = log.map(([, t, at]) => at - t);
      expect(waits.every((w) => w >= 0)).toBe(true);
      expect(waits.at(-1)).toBeGreaterThan(waits[0] + 40);
    } finally {
      killAll();
    }
  }, 30_000);
});
