/**
 * Networks for time to first message: `direct`, plus the testkit's hostile networks (a proxy
 * on loopback that buffers, compresses, refuses upgrades, …) and real nginx configurations, from
 * `@throughline/testkit` (`startHostileProxy`, `startNginx`).
 *
 * The hook: a network is `{ name, description, via(origin) → Promise<{ origin, close() }> }`:
 * it gets the server's origin (`http://127.0.0.1:PORT`) and returns the origin to connect to.
 * To add one, add an entry to HOSTILE (behaviours as in packages/testkit/src/hostile/types.ts).
 */

/** Hostile networks measured by default (name → behaviours, applied nearest the server first; or a real nginx config). */
export const HOSTILE = Object.freeze({
  "latency-100ms": { behaviours: [{ kind: "latency", ms: 50 }], description: "50 ms each way (100 ms round trip)" },
  "latency-jitter": { behaviours: [{ kind: "latency", ms: 100, jitterMs: 50 }], description: "100 ms ± 50 ms each way" },
  "buffer-all": { behaviours: [{ kind: "buffer-all" }], description: "holds each response until it ends" },
  "buffering-proxy": { behaviours: [{ kind: "buffer-bytes", bytes: 16_384 }], description: "flushes every 16 KB" },
  "compressing-proxy": { behaviours: [{ kind: "compress" }], description: "gzips responses, ignoring no-transform" },
  "antivirus": { behaviours: [{ kind: "hold-first-event" }], description: "holds the first SSE event until the second" },
  "no-websocket": { behaviours: [{ kind: "refuse-upgrade" }], description: "answers WebSocket upgrades 403" },
  "strip-upgrade": { behaviours: [{ kind: "strip-upgrade" }], description: "forwards the upgrade as a plain GET" },
  "close-after-101": { behaviours: [{ kind: "upgrade-then-close" }], description: "accepts the upgrade, closes before data" },
  "sse-blocked": { behaviours: [{ kind: "block-event-stream" }], description: "replaces text/event-stream with a 403 page" },
  "cut-idle-2s": { behaviours: [{ kind: "cut-idle", ms: 2_000 }], description: "cuts connections idle for 2 s" },
  "buffer-all+no-websocket": { behaviours: [{ kind: "buffer-all" }, { kind: "refuse-upgrade" }], description: "buffers responses and refuses upgrades" },
  "nginx-plain": { nginx: "plain", description: "real nginx, plain proxy_pass (defaults)" },
  "nginx-buffering": { nginx: "buffering", description: "real nginx, proxy_buffering on, ignores X-Accel-Buffering" },
});

const DIRECT = Object.freeze({
  name: "direct",
  description: "no proxy",
  via: async (origin) => ({ origin, close: async () => {} }),
});

async function loadTestkit() {
  try {
    const mod = await import("@throughline/testkit");
    if (typeof mod.startHostileProxy === "function") return mod;
  } catch {
    // Not built yet: only `direct` is available.
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
  const kit = wanted.some((n) => n !== "direct") ? await loadTestkit() : undefined;
  const nginx = kit && typeof kit.findNginx === "function" ? safe(() => kit.findNginx()) : undefined;
  const networks = [];
  const unavailable = [];
  for (const name of wanted) {
    if (name === "direct") networks.push(DIRECT);
    else if (!HOSTILE[name]) unavailable.push(`${name} (unknown; known: direct, ${Object.keys(HOSTILE).join(", ")})`);
    else if (!kit) unavailable.push(`${name} (@throughline/testkit is not built: run npm run build)`);
    else if (HOSTILE[name].nginx && !nginx) unavailable.push(`${name} (nginx is not installed)`);
    else {
      const { behaviours, nginx: config, description } = HOSTILE[name];
      networks.push({
        name,
        description,
        via: async (origin) => {
          const proxy = config ? await kit.startNginx({ target: origin, config }) : await kit.startHostileProxy(origin, behaviours);
          return { origin: proxy.url, close: () => proxy.close() };
        },
      });
    }
  }
  return { networks, unavailable };
}

function safe(fn) {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
