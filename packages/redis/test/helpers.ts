/** Shared test plumbing: a real redis-server per file, backplanes closed in teardown, and a recording listener. */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startRedisServer, type RedisServer } from "@throughline/testkit/redis";
import type { Channel } from "@throughline/client/node";
import type { ThroughlineServer } from "@throughline/server";
import type { BackplaneGap, BackplaneListener, BackplaneMessage } from "../src/contract.js";
import { redisBackplane, type RedisBackplane } from "../src/backplane.js";
import type { RedisBackplaneOptions } from "../src/options.js";

/** Opens backplanes on `url` with a per-test key prefix; `closeAll()` in teardown. */
export function backplanes(url: () => string) {
  const open: RedisBackplane[] = [];
  let prefix = `t${randomUUID().slice(0, 8)}:`;
  return {
    /** A fresh prefix: backplanes made after this share a new, empty history. */
    fresh(): void {
      prefix = `t${randomUUID().slice(0, 8)}:`;
    },
    make(options: RedisBackplaneOptions = {}): RedisBackplane {
      const b = redisBackplane({ url: url(), keyPrefix: prefix, ...options });
      open.push(b);
      return b;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((b) => b.close()));
    },
  };
}

/** A listener recording what an ingest hands over, in order. */
export interface Recorder extends BackplaneListener {
  readonly messages: BackplaneMessage[];
  readonly gaps: BackplaneGap[];
  readonly availability: (available: boolean) => void;
  readonly changes: boolean[];
}

export function recorder(): Recorder {
  const messages: BackplaneMessage[] = [];
  const gaps: BackplaneGap[] = [];
  const changes: boolean[] = [];
  return {
    messages,
    gaps,
    changes,
    message: (m) => void messages.push(m),
    gap: (g) => void gaps.push(g),
    availability: (a) => void changes.push(a),
  };
}

/**
 * One redis-server (no persistence) for the whole file, and backplanes closed after each test
 * (each test gets a fresh key prefix, so a fresh history).
 */
export function sharedRedis() {
  let redis: RedisServer | undefined;
  const nodes = backplanes(() => redis!.url);
  beforeAll(async () => {
    redis = await startRedisServer({ persistence: "none" });
  });
  afterEach(async () => {
    await nodes.closeAll();
    nodes.fresh();
  });
  afterAll(async () => {
    await redis?.close();
  });
  return { nodes, url: () => redis!.url };
}

/** The servers and channels a test opens; `close()` (in teardown) closes the channels, then the servers. */
export function opened() {
  const servers: ThroughlineServer[] = [];
  const channels: Channel[] = [];
  return {
    servers,
    channels,
    async close(): Promise<void> {
      for (const ch of channels.splice(0)) ch.close();
      await Promise.all(servers.splice(0).map((s) => s.close()));
    },
  };
}
