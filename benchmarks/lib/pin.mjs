/**
 * CPU pinning (issue #15, 3): on a 2-core machine a server and its load clients compete for the
 * same cores, so the server's CPU per delivery and the throughput say as much about the clients as
 * about the server. With `taskset` (util-linux) the server under test runs on core 0 and every load
 * client (and the runner) on the other cores. Without taskset, or on one core, nothing is pinned
 * and the output and the JSON `meta.pinning` say so.
 */
import { accessSync, constants } from "node:fs";
import { execFileSync } from "node:child_process";
import os from "node:os";

/** Where taskset lives on Debian/Ubuntu (util-linux); also looked up on PATH. */
export const TASKSET_PATHS = Object.freeze(["/usr/bin/taskset", "/bin/taskset"]);

/**
 * @typedef {object} Pinning
 * @property {boolean} enabled whether children are started under taskset
 * @property {string} [taskset] path of the taskset binary
 * @property {string} [server] CPU list of the server under test (`"0"`)
 * @property {string} [clients] CPU list of load clients and the runner (`"1"`, or `"1-3"`)
 * @property {string} reason one line for the output: what is pinned where, or why nothing is
 */

function findTaskset(paths) {
  for (const p of paths) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    try {
      accessSync(`${dir}/taskset`, constants.X_OK);
      return `${dir}/taskset`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Decides the pinning: `mode` "auto" (default) pins when taskset exists and there are ≥ 2 cores,
 * "off" never pins. Pure apart from the lookup, which `deps` can replace (tests).
 * @param {"auto" | "off"} [mode]
 * @param {{ cpus?: number, taskset?: string | null }} [deps] `taskset: null` = not installed
 * @returns {Pinning}
 */
export function decidePinning(mode = "auto", deps = {}) {
  if (mode === "off") return { enabled: false, reason: "not pinned (--pin off): server and load clients share every core" };
  const cpus = deps.cpus ?? os.availableParallelism?.() ?? os.cpus().length;
  const taskset = deps.taskset === undefined ? findTaskset(TASKSET_PATHS) : (deps.taskset ?? undefined);
  if (!taskset) return { enabled: false, reason: "not pinned: taskset not found (install util-linux); server and load clients share every core" };
  if (cpus < 2) return { enabled: false, taskset, reason: `not pinned: ${cpus} core; server and load clients share it` };
  const clients = cpus === 2 ? "1" : `1-${cpus - 1}`;
  return { enabled: true, taskset, server: "0", clients, reason: `pinned with taskset: server under test on core 0, load clients and runner on core${cpus === 2 ? "" : "s"} ${clients}` };
}

/**
 * The command that runs `executable` (default: this node) with `args` on `role`'s cores (a
 * taskset CPU list), or unpinned. taskset execs the program, so the child's PID is the
 * program's own (kill and /proc work unchanged).
 * @param {Pinning | undefined} pin
 * @param {"server" | "clients" | undefined} role
 * @param {string[]} args node's arguments (flags, script, its arguments), or the executable's
 * @returns {{ command: string, args: string[] }}
 */
export function pinnedCommand(pin, role, args, executable = process.execPath) {
  const cpus = pin?.enabled && role ? pin[role] : undefined;
  if (!cpus) return { command: executable, args };
  return { command: pin.taskset, args: ["-c", cpus, executable, ...args] };
}

/** Moves a running process (the runner, redis-server) to `role`'s cores; false if it could not. */
export function pinProcess(pin, role, pid) {
  if (!pin?.enabled) return false;
  try {
    // -a: every thread (libuv pool, V8 platform threads, Redis background threads).
    execFileSync(pin.taskset, ["-a", "-pc", pin[role], String(pid)], { stdio: "ignore", timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
