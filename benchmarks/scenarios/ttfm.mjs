/**
 * Time to first message from connect(), on a direct connection and through each hostile network
 * (networks.mjs), for Throughline (negotiated and each forced transport) next to Socket.IO (its
 * default and each transport). The server publishes a small message every 2 ms for the whole
 * scenario, so "first message" is at most ~2 ms after the stream is really open.
 */
import { fileURLToPath } from "node:url";
import { Child } from "../lib/proc.mjs";
import { result, step } from "../lib/progress.mjs";

const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

/** Client configurations per server, and the ones also tried through hostile networks. */
export const TTFM_CONFIGS = Object.freeze({
  throughline: ["throughline", "throughline-sse", "throughline-websocket", "throughline-long-poll"],
  socketio: ["socketio", "socketio-websocket", "socketio-polling"],
});
export const HOSTILE_CONFIGS = Object.freeze(["throughline", "socketio"]);

/** Publishing rate while clients connect (messages/s). */
export const TICK_RATE = 500;

const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const p90 = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
};

/**
 * @param {{ servers: ("throughline"|"socketio")[], networks: object[], trials: number,
 *   hostileTrials: number, timeoutMs: number }} opts
 */
export async function runTtfm(opts) {
  const out = [];
  for (const serverName of opts.servers) {
    step(`time to first message: ${serverName} (${opts.networks.map((n) => n.name).join(", ")})`);
    const server = new Child(here(`servers/${serverName}.mjs`), [], { name: `${serverName} server` });
    try {
      const l = await server.wait((m) => m.type === "listening" || m.type === "error", 20_000, "listening");
      if (l.type === "error") throw new Error(l.message);
      const origin = `http://127.0.0.1:${l.port}`;
      await server.request({ cmd: "run", mode: "rate", size: 64, rate: TICK_RATE, durationMs: 30 * 60_000 }, "started");
      for (const network of opts.networks) {
        const direct = network.name === "direct";
        const configs = TTFM_CONFIGS[serverName].filter((c) => direct || HOSTILE_CONFIGS.includes(c));
        const trials = direct ? opts.trials : opts.hostileTrials;
        for (const config of configs) {
          let via;
          const row = { scenario: "ttfm", system: config, network: network.name, trials };
          try {
            // A fresh proxy per configuration: no connection state carried over.
            via = await network.via(origin);
            const client = new Child(here("clients/ttfm.mjs"), [config, via.origin, String(trials), String(opts.timeoutMs)], { name: `ttfm ${config}` });
            const r = await client.wait((m) => m.type === "ttfm", trials * (opts.timeoutMs + 2_000) + 20_000, "ttfm result");
            await client.stop();
            Object.assign(row, {
              median: median(r.samples),
              p90: p90(r.samples),
              openMedian: median(r.openSamples),
              ok: r.samples.length,
              failures: r.failures,
              transports: r.transports,
              error: r.error,
            });
          } catch (err) {
            Object.assign(row, { ok: 0, failures: trials, error: err instanceof Error ? err.message : String(err) });
          } finally {
            await via?.close().catch(() => {});
          }
          out.push(row);
          const tr = row.transports && Object.keys(row.transports).length ? ` via ${Object.keys(row.transports).join("/")}` : "";
          result(`${config} on ${network.name}: ${row.ok ? `median ${row.median.toFixed(1)} ms, p90 ${row.p90.toFixed(1)} ms${tr}` : "no message"}${row.failures ? ` (${row.failures}/${trials} failed${row.error ? `: ${row.error}` : ""})` : ""}`);
        }
      }
    } catch (err) {
      result(`${serverName}: ttfm FAILED: ${err instanceof Error ? err.message : err}`);
      out.push({ scenario: "error", system: serverName, stage: "ttfm", message: String(err instanceof Error ? err.message : err) });
    } finally {
      server.send({ cmd: "stop" });
      await server.stop();
    }
  }
  return out;
}
