/**
 * The redis-server launcher and its fault helpers, against the real Debian binary: each helper
 * must leave Redis in the state a backplane fault test expects.
 */
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { findRedisServer, redisCommand, startRedisServer, type RedisServer } from "@throughline/testkit/redis";

let server: RedisServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("startRedisServer", () => {
  it("runs redis-server on a free loopback port and stops it by pid, removing its dir", async () => {
    server = await startRedisServer({ persistence: "none" });
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await server.command("PING")).toBe("+PONG");
    const { pid, dir } = server;
    await server.close();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(redisCommand(server.port, ["PING"], 1_000)).rejects.toThrow();
    await server.close(); // idempotent
  });

  it.each(["rdb", "aof"] as const)("keeps the data across restart() with %s persistence, on the same port", async (persistence) => {
    server = await startRedisServer({ persistence });
    expect(await server.command("SET", "k", "v1")).toBe("+OK");
    const before = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(before);
    expect(await server.command("GET", "k")).toBe("$2");
  });

  it("loses the data with restart({ keepData: false }) and with flush()", async () => {
    server = await startRedisServer({ persistence: "aof" });
    await server.command("SET", "k", "v");
    await server.restart({ keepData: false });
    expect(await server.command("GET", "k")).toBe("$-1");
    await server.command("SET", "k", "v");
    await server.flush();
    expect(await server.command("GET", "k")).toBe("$-1");
  });

  it.each(["rdb", "aof"] as const)("restores an older snapshot with %s persistence (newer writes gone)", async (persistence) => {
    server = await startRedisServer({ persistence });
    await server.command("SET", "k", "old");
    const snapshot = await server.snapshot();
    await server.command("SET", "k", "newer");
    await server.command("SET", "only-new", "x");
    await server.restore(snapshot);
    expect(await server.command("GET", "k")).toBe("$3");
    expect(await server.command("EXISTS", "only-new")).toBe(":0");
    // The restored data is the server's data from now on: it survives a further restart.
    await server.restart();
    expect(await server.command("GET", "k")).toBe("$3");
  });

  it("names the missing binary with a stable code", () => {
    expect(() => findRedisServer("/nonexistent/redis-server")).toThrow(expect.objectContaining({ code: "TL_INVALID_OPTION" }));
  });
});
