/**
 * Networks for time to first message: `direct`, plus the testkit's hostile networks (a proxy
 * on loopback that buffers, compresses, refuses upgrades, …) once `@throughline/testkit` exports
 * `startHostileProxy(target, behaviours)`.
 *
 * The hook: a network is `{ name, description, via(origin) → Promise<{ origin, close() }> }`:
 * it gets the server's origin (`http://127.0.0.1:PORT`) and returns the origin to connect to.
 * To add one, add an entry to HOSTILE (behaviours as in packages/testkit/src/hostile/types.ts).
 */

/** Hostile networks measured by default (name → behaviours, applied nearest the server first). */
export const HOSTILE = Object.freeze({
  "latency-100ms": { behaviours: [{ kind: "latency", ms: 50 }], description: "50 ms each way (100 ms round trip)" },
  "buffering-proxy": { behaviours: [{ kind: "buffer-bytes", bytes: 16_384 }], description: "flushes every 16 KB" },
  "compressing-proxy": { behaviours: [{ kind: "compress" }], description: "gzips responses, ignoring no-transform" },
  "no-websocket": { behaviours: [{ kind: "refuse-upgrade" }], description: "answers WebSocket upgrades 403" },
  "sse-blocked": { behaviours: [{ kind: "block-event-stream" }], description: "replaces text/event-stream with a 403 page" },
  "antivirus": { behaviours: [{ kind: "hold-first-event" }], description: "holds the first SSE event until the second" },
});

const DIRECT = Object.freeze({
  name: "direct",
  description: "no proxy",
  via: async (origin) => ({ origin, close: async () => {} }),
});

async function loadStartHostileProxy() {
  for (const spec of ["@throughline/testkit", "@throughline/testkit/hostile"]) {
    try {
      const mod = await import(spec);
      if (typeof mod.startHostileProxy === "function") return mod.startHostileProxy;
    } catch {
      // Not built yet, or not exported yet: only `direct` is available.
    }
  }
  return undefined;
}

/**
 * The networks to measure, in order. Unknown names are reported, never silently dropped.
 * @param {string[] | "all"} names
 * @returns {Promise<{ networks: object[], unavailable: string[] }>}
 */
export async function resolveNetworks(names) {
  const wanted = names === "all" ? ["direct", ...Object.keys(HOSTILE)] : names;
  const start = wanted.some((n) => n !== "direct") ? await loadStartHostileProxy() : undefined;
  const networks = [];
  const unavailable = [];
  for (const name of wanted) {
    if (name === "direct") networks.push(DIRECT);
    else if (!HOSTILE[name]) unavailable.push(`${name} (unknown; known: direct, ${Object.keys(HOSTILE).join(", ")})`);
    else if (!start) unavailable.push(`${name} (@throughline/testkit does not export startHostileProxy yet)`);
    else {
      const { behaviours, description } = HOSTILE[name];
      networks.push({
        name,
        description,
        via: async (origin) => {
          const proxy = await start(origin, behaviours);
          return { origin: proxy.url, close: () => proxy.close() };
        },
      });
    }
  }
  return { networks, unavailable };
}
