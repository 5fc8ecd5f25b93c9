/**
 * A real `redis-server` for tests: one process on 127.0.0.1 with a free port, its data in a temp
 * dir, stopped by PID. The fault helpers reproduce what a backplane must survive (issue #12):
 * a restart with the data (`restart()`), one that lost it (`restart({ keepData: false })`,
 * `flush()`), and a restore from an older snapshot (`snapshot()` then `restore(file)`), which is
 * also what a failover to a lagging replica looks like from a client.
 *
 * Commands go over a tiny RESP client (a few inline commands) so the testkit needs no Redis
 * client library.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { ThroughlineError } from "@throughline/wire";
import { freePort } from "./ports.js";

/**
 * - `none`: no RDB, no AOF (a cache-like Redis: a restart loses everything).
 * - `rdb`: RDB only; the data survives `restart()` because a clean shutdown saves it.
 * - `aof`: AOF with `appendfsync always` (every write on disk before the reply) plus RDB.
 */
export type RedisPersistence = "none" | "rdb" | "aof";

export interface RedisServerOptions {
  /** Path of the redis-server binary. @default /usr/bin/redis-server, else `redis-server` on PATH */
  readonly binary?: string;
  /** What survives a restart. @default "rdb" */
  readonly persistence?: RedisPersistence;
  /** How long to wait for the server to answer PING. @default 10000 */
  readonly startTimeoutMs?: number;
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` (stable across restarts). */
  readonly url: string;
  readonly port: number;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** The temp dir with the data files and `redis.log` (removed by `close()`). */
  readonly dir: string;
  /** Sends one command (arguments as strings) and resolves with the reply's first line. */
  command(...args: string[]): Promise<string>;
  /** Stops the process: `"SIGTERM"` saves first (per `persistence`); `"SIGKILL"` loses unsaved writes. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port; `keepData: false` deletes the data files first. @default keepData true */
  restart(options?: { keepData?: boolean }): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a frozen or very slow Redis). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** FLUSHALL on the running server (data lost without a restart). */
  flush(): Promise<void>;
  /** SAVE, then copies the RDB file aside; resolves with the copy's path. */
  snapshot(): Promise<string>;
  /** Stops, replaces the data with an older `snapshot()` (AOF removed), starts again. */
  restore(snapshotFile: string): Promise<void>;
  /** Stops the process and removes the dir. Idempotent. */
  close(): Promise<void>;
}

/** Defaults of `RedisServerOptions`. */
export const DEFAULT_REDIS_SERVER_OPTIONS = Object.freeze({ persistence: "rdb" as RedisPersistence, startTimeoutMs: 10_000 });

/** Finds redis-server: /usr/bin/redis-server, then PATH. @throws ThroughlineError TL_INVALID_OPTION if missing. */
export function findRedisServer(binary?: string): string {
  const candidates = binary ? [binary] : ["/usr/bin/redis-server", ...(process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "redis-server"))];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next candidate
    }
  }
  throw new ThroughlineError("TL_INVALID_OPTION", `redis-server not found (${binary ?? "/usr/bin/redis-server or PATH"}): apt-get install redis-server, or pass \`binary\`.`);
}

/** RESP array of bulk strings. */
function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/**
 * One command on a fresh connection; resolves with the first reply line (`+OK`, `-ERR …`,
 * `:1`, `$5` …), or rejects on a socket error or after `timeoutMs`.
 */
export async function redisCommand(port: number, args: readonly string[], timeoutMs = 5_000): Promise<string> {
  return (await exchange(port, args, timeoutMs)).line;
}

/** One command; the reply's first line and, for a bulk string, its body. */
function exchange(port: number, args: readonly string[], timeoutMs: number): Promise<{ line: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`redis ${args[0]} timed out after ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, reply?: { line: string; body: string }) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.once("connect", () => socket.write(encode(args)));
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n");
      if (end < 0) return;
      const line = buffered.subarray(0, end).toString("utf8");
      const size = line.startsWith("$") ? Number(line.slice(1)) : -1;
      if (size < 0) return finish(undefined, { line, body: "" });
      if (buffered.length >= end + 2 + size) finish(undefined, { line, body: buffered.subarray(end + 2, end + 2 + size).toString("utf8") });
    });
    socket.once("error", (err) => finish(err));
    socket.once("close", () => finish(new Error(`redis ${args[0]}: connection closed without a reply`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function persistenceArgs(persistence: RedisPersistence): string[] {
  switch (persistence) {
    case "none":
      return ["--save", "", "--appendonly", "no"];
    case "rdb":
      return ["--save", "3600 1", "--appendonly", "no"];
    case "aof":
      return ["--save", "3600 1", "--appendonly", "yes", "--appendfsync", "always"];
  }
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, "redis.log"), "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts a redis-server; `close()` it in teardown. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer(options.binary);
  const persistence = options.persistence ?? DEFAULT_REDIS_SERVER_OPTIONS.persistence;
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_REDIS_SERVER_OPTIONS.startTimeoutMs;
  const dir = mkdtempSync(join(tmpdir(), "throughline-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let closed = false;

  const start = async (mode: RedisPersistence = persistence): Promise<void> => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--logfile", join(dir, "redis.log"), "--daemonize", "no", ...persistenceArgs(mode)];
    const proc = spawn(binary, args, { stdio: "ignore" });
    child = proc;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new ThroughlineError("TL_INTERNAL", `redis-server exited during start on port ${port}:\n${logTail(dir)}`);
      }
      // PING answers -LOADING while the data set is read; wait for +PONG.
      const reply = await redisCommand(port, ["PING"], 1_000).catch(() => "");
      if (reply === "+PONG") return;
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        await exited(proc);
        throw new ThroughlineError("TL_INTERNAL", `redis-server did not answer PING within ${timeoutMs} ms:\n${logTail(dir)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    // A paused server would hold SIGTERM until continued.
    proc.kill("SIGCONT");
    proc.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), 10_000)));
    const result = await Promise.race([exited(proc), late]);
    clearTimeout(timer);
    if (result === "late") {
      proc.kill("SIGKILL");
      await exited(proc);
    }
  };

  const removeData = () => {
    rmSync(join(dir, "dump.rdb"), { force: true });
    rmSync(join(dir, "appendonlydir"), { recursive: true, force: true });
  };

  const ok = async (args: string[]) => {
    const reply = await redisCommand(port, args);
    if (reply.startsWith("-")) throw new ThroughlineError("TL_INTERNAL", `redis ${args[0]} failed: ${reply}`);
    return reply;
  };

  await start();
  let snapshots = 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    dir,
    command: (...args) => redisCommand(port, args),
    stop,
    async restart({ keepData = true } = {}) {
      await stop(keepData ? "SIGTERM" : "SIGKILL");
      if (!keepData) removeData();
      await start();
    },
    pause() {
      if (child?.pid) process.kill(child.pid, "SIGSTOP");
    },
    resume() {
      if (child?.pid) process.kill(child.pid, "SIGCONT");
    },
    async flush() {
      await ok(["FLUSHALL", "SYNC"]);
    },
    async snapshot() {
      await ok(["SAVE"]);
      const file = join(dir, `snapshot-${++snapshots}.rdb`);
      copyFileSync(join(dir, "dump.rdb"), file);
      return file;
    },
    async restore(snapshotFile) {
      // SIGKILL: a clean shutdown would save the newer data over the snapshot being restored.
      await stop("SIGKILL");
      removeData();
      copyFileSync(snapshotFile, join(dir, "dump.rdb"));
      if (persistence !== "aof") return start();
      // With AOF on and no AOF files, Redis 7 starts empty instead of reading dump.rdb: load the
      // RDB with AOF off, then turn AOF on, which rewrites it from the loaded data.
      await start("rdb");
      await ok(["CONFIG", "SET", "appendonly", "yes"]);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await exchange(port, ["INFO", "persistence"], 5_000);
        if (/aof_enabled:1/.test(body) && /aof_rewrite_in_progress:0/.test(body) && /aof_rewrite_scheduled:0/.test(body)) return;
        if (Date.now() > deadline) throw new ThroughlineError("TL_INTERNAL", `redis AOF rewrite after restore did not finish within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
