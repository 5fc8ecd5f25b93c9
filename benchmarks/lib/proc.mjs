/**
 * Child processes that talk JSON lines: the runner writes commands on their stdin, they answer
 * (and report progress) as one JSON object per line on stdout. Every child ever spawned is kept in
 * a registry so that an exit, an error or Ctrl-C kills them all: a benchmark must never leave a
 * server or thousands of sockets behind.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { pinnedCommand } from "./pin.mjs";

const live = new Set();

/** Kills every child still running (SIGKILL: they hold no state worth a graceful stop). */
export function killAll() {
  for (const child of live) {
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      killAll();
      process.stderr.write(`\nbench: ${sig}, children killed\n`);
      process.exit(130);
    });
  }
}

/**
 * A JSON-lines child process.
 * `wait(pred, ms, what)` resolves with the first message (already received or future) matching
 * `pred`; it rejects after `ms` so no step of a benchmark can hang.
 */
export class Child {
  /**
   * @param {string} file script path
   * @param {string[]} args
   * @param {{ name?: string, nodeArgs?: string[], onMessage?: (msg: any) => void,
   *   pin?: import("./pin.mjs").Pinning, role?: "server" | "clients", nofile?: number, native?: boolean,
   *   env?: Record<string, string> }} [options]
   *   `env`: variables set for this child on top of this process's environment;
   *   `native`: `file` is an executable run as is (native/ws-load.c), not a script run by node;
   *   `pin` + `role`: start under taskset on that role's cores (unpinned when pinning is off);
   *   `nofile`: the open-file limit raised for this child (as far as the hard limit allows)
   */
  constructor(file, args = [], options = {}) {
    hookExit();
    this.name = options.name ?? file;
    this.onMessage = options.onMessage;
    this.messages = [];
    this.waiters = [];
    this.stderr = "";
    this.exited = false;
    const { command, args: argv } = options.native
      ? pinnedCommand(options.pin, options.role, args, file)
      : pinnedCommand(options.pin, options.role, [...(options.nodeArgs ?? []), file, ...args]);
    // `nofile`: the open-file limit raised for this child through the shell's ulimit, then exec:
    // the pid stays the node (or taskset → node) process's.
    const spawnOptions = { stdio: ["pipe", "pipe", "pipe"], env: options.env ? { ...process.env, ...options.env } : process.env };
    this.proc = options.nofile
      ? spawn("sh", ["-c", `ulimit -n ${Number(options.nofile)} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, command, ...argv], spawnOptions)
      : spawn(command, argv, spawnOptions);
    live.add(this);
    this.proc.stdin.on("error", () => {});
    createInterface({ input: this.proc.stdout }).on("line", (line) => this.#line(line));
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (d) => {
      // Keep the tail only: enough to explain a crash, bounded in memory.
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.proc.on("exit", (code, signal) => {
      this.exited = true;
      live.delete(this);
      const err = new Error(`${this.name} exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-6).join(" | ")}` : ""}`);
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  #line(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // A stray console.log of a library under test: not ours.
    }
    if (this.onMessage) this.onMessage(msg);
    for (const w of [...this.waiters]) {
      if (w.pred(msg)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg);
        return;
      }
    }
    // Progress lines are consumed by onMessage; keep the rest for a later wait().
    if (msg.type !== "progress") this.messages.push(msg);
  }

  send(cmd) {
    if (!this.exited) this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** @returns {Promise<any>} */
  wait(pred, ms, what = "an answer") {
    const i = this.messages.findIndex(pred);
    if (i !== -1) return Promise.resolve(this.messages.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited; waited for ${what}${this.stderr ? `: ${this.stderr.trim().split("\n").slice(-6).join(" | ")}` : ""}`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: no ${what} within ${ms} ms${this.stderr ? ` (stderr: ${this.stderr.trim().split("\n").slice(-4).join(" | ")})` : ""}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Sends a command and waits for the answer of the given type. */
  request(cmd, type, ms = 30_000) {
    this.send(cmd);
    return this.wait((m) => m.type === type || m.type === "error", ms, `"${type}" after ${cmd.cmd}`).then((m) => {
      if (m.type === "error") throw new Error(`${this.name}: ${m.message}`);
      return m;
    });
  }

  /** Asks the child to exit, then kills it if it has not within `ms`. */
  async stop(ms = 3_000) {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.proc.once("exit", resolve));
    this.send({ cmd: "exit" });
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), ms);
    await gone;
    clearTimeout(timer);
  }
}

/** Writes one JSON line on stdout (the child side of the protocol). */
export function emit(msg) {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

/**
 * The child side: calls `handler(cmd)` for every JSON line on stdin; a thrown error becomes an
 * `{type:"error"}` line. stdin closing (the runner died) ends the process.
 */
export function onCommands(handler) {
  const rl = createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch {
      emit({ type: "error", message: `bad command line ${line.slice(0, 80)}` });
      return;
    }
    try {
      await handler(cmd);
    } catch (err) {
      emit({ type: "error", message: err instanceof Error ? err.message : String(err) });
    }
  });
  rl.on("close", () => process.exit(0));
}
