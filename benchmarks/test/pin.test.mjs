import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decidePinning, pinnedCommand } from "../lib/pin.mjs";
import { Child } from "../lib/proc.mjs";

describe("decidePinning", () => {
  it("pins the server to core 0 and the clients to core 1 on two cores with taskset", () => {
    const pin = decidePinning("auto", { cpus: 2, taskset: "/usr/bin/taskset" });
    expect(pin).toMatchObject({ enabled: true, taskset: "/usr/bin/taskset", server: "0", clients: "1" });
    expect(pin.reason).toMatch(/server under test on core 0, load clients and runner on core 1$/);
  });

  it("gives the clients every other core on a larger machine", () => {
    expect(decidePinning("auto", { cpus: 4, taskset: "/bin/taskset" })).toMatchObject({ enabled: true, server: "0", clients: "1-3" });
  });

  it("says so when taskset is missing", () => {
    const pin = decidePinning("auto", { cpus: 2, taskset: null });
    expect(pin.enabled).toBe(false);
    expect(pin.reason).toMatch(/not pinned: taskset not found/);
  });

  it("does not pin on one core or when turned off", () => {
    expect(decidePinning("auto", { cpus: 1, taskset: "/usr/bin/taskset" })).toMatchObject({ enabled: false, reason: expect.stringMatching(/1 core/) });
    expect(decidePinning("off", { cpus: 2, taskset: "/usr/bin/taskset" })).toMatchObject({ enabled: false, reason: expect.stringMatching(/--pin off/) });
  });
});

describe("pinnedCommand", () => {
  it("wraps node in taskset -c with the role's cores", () => {
    const pin = decidePinning("auto", { cpus: 2, taskset: "/usr/bin/taskset" });
    expect(pinnedCommand(pin, "server", ["a.mjs"])).toEqual({ command: "/usr/bin/taskset", args: ["-c", "0", process.execPath, "a.mjs"] });
    expect(pinnedCommand(pin, "clients", ["b.mjs", "x"])).toEqual({ command: "/usr/bin/taskset", args: ["-c", "1", process.execPath, "b.mjs", "x"] });
  });

  it("runs node directly when pinning is off or no role is given", () => {
    const off = decidePinning("off");
    expect(pinnedCommand(off, "server", ["a.mjs"])).toEqual({ command: process.execPath, args: ["a.mjs"] });
    expect(pinnedCommand(decidePinning("auto", { cpus: 2, taskset: "/usr/bin/taskset" }), undefined, ["a.mjs"])).toEqual({ command: process.execPath, args: ["a.mjs"] });
  });
});

describe("a pinned child process", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-pin-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs on the cores of its role (or where the parent runs when pinning is unavailable)", async () => {
    const script = join(dir, "affinity.mjs");
    writeFileSync(script, 'import { readFileSync } from "node:fs";\nconst l = /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync("/proc/self/status", "utf8"))[1];\nprocess.stdout.write(JSON.stringify({ type: "affinity", cpus: l }) + "\\n");\nsetTimeout(() => {}, 10_000);\n');
    const pin = decidePinning("auto");
    const child = new Child(script, [], { name: "affinity", pin, role: "server" });
    try {
      const msg = await child.wait((m) => m.type === "affinity", 10_000, "affinity");
      const parent = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync("/proc/self/status", "utf8"))[1];
      expect(msg.cpus).toBe(pin.enabled ? pin.server : parent);
      // taskset execs node: the PID we hold is node's own, so stop() and /proc keep working.
      expect(readFileSync(`/proc/${child.proc.pid}/cmdline`, "utf8").split("\0")[0]).toBe(process.execPath);
    } finally {
      await child.stop(1_000);
    }
  });
});
