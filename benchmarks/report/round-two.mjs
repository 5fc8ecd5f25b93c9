/**
 * The tables of issues #15 and #12: server CPU per delivery at high fixed rates next to the raw
 * baseline of the same protocol, and one node next to a cluster on Redis; plus the line that says
 * how the processes were pinned to cores.
 */
import { num, table } from "./markdown.mjs";
import { clusterRatios, label, ratioToRaw, times } from "./summary.mjs";

/** Marks a figure taken while the busiest load client was above 90% CPU. */
export const clientBound = (r) => (r.clientCpuPct > 90 ? "¹" : "");

/** Marks a fan-out row where no message reached every subscriber in the window (³, with the server's longest loop hold). */
export const stalled = (r) => (r.deliveriesPerSec === 0 ? "³" : "");

/** Marks an achieved rate below 90% of the offered one that the load clients did not set (²). */
export const serverBound = (r) => (r.achieved < 0.9 * r.rate && !clientBound(r) ? "²" : "");

/** Each round's p99 (ms) of a latency row measured in several rounds, or "–" for one round. */
export const roundsCell = (r) => (r.rounds && r.rounds.length > 1 ? r.rounds.map((x) => num(x.p99, 1)).join(" / ") : "–");

/** One line on core pinning from `meta.pinning` (lib/pin.mjs), or "" for results without it. */
export function renderPinning(meta) {
  const p = meta?.pinning;
  if (!p) return "";
  return `\nCores: ${p.reason}${p.runner ? ` (runner ${p.runner})` : ""}${meta.redis ? `; redis-server ${meta.redis.version ?? ""} ${meta.redis.pinned ? "on the server core with the nodes" : "not pinned"}` : ""}.\n`;
}

/** Server CPU per delivery at the high rates, one row per system and rate. */
export function renderCpuRate(rows) {
  const hr = rows.filter((r) => r.scenario === "cpu-rate");
  if (!hr.length) return "";
  const { n, size } = hr[0];
  const rates = [...new Set(hr.map((r) => r.rate))].sort((a, b) => a - b);
  const lines = [`\n### Server CPU per delivery at high rates (N=${num(n)}, ${size} B)\n`];
  lines.push(
    table(
      ["system", "offered msg/s", "server µs CPU / delivery", "× raw (same protocol)", "achieved msg/s", "server CPU", "busiest client CPU", "p99 ms", "lost"],
      rates.flatMap((rate) =>
        hr
          .filter((r) => r.rate === rate)
          .map((r) => [
            label(r.system),
            num(rate),
            num(r.cpuUsPerDelivery, 2),
            times(ratioToRaw(rows, r, "cpuUsPerDelivery", (b) => b.rate === rate)),
            `${num(r.achieved)}${clientBound(r)}${serverBound(r)}`,
            `${num(r.serverCpuPct)}%`,
            `${num(r.clientCpuPct)}%`,
            num(r.p99, 1),
            num(r.lost),
          ]),
      ),
    ),
  );
  lines.push(
    "\nThe rate is held to a credit window: where the subscribers cannot take the offered rate, *achieved* is what they took. ¹ the busiest load client was above 90% CPU (the clients set the achieved rate); ² below 90% of the offered rate with the clients below 90% CPU: the server set it (its own cost, or its share of a busy core). CPU is counted until every subscriber has everything.",
  );
  return lines.join("\n");
}

/** One node next to K nodes on one Redis, per system. */
export function renderCluster(rows) {
  const cl = rows.filter((r) => r.scenario === "cluster");
  if (!cl.length) return "";
  const r0 = cl[0];
  const ratios = clusterRatios(rows);
  const lines = [`\n### Multi-node: one node vs nodes sharing one Redis (N=${num(r0.n)} spread over the nodes, ${num(r0.rate)} msg/s of ${r0.size} B published on the first node)\n`];
  lines.push(
    table(
      ["system", "setup", "published msg/s", "p50 ms", "p99 ms", "p99 × 1 node", "server µs CPU / delivery (all nodes)", "Redis µs CPU / delivery", "delivered / expected", "p99 of each round ms"],
      cl.map((r) => {
        const x = ratios.find((c) => c.system === r.system && c.setup === r.setup);
        return [
          label(r.system),
          r.setup,
          num(r.achieved),
          num(r.p50, 2),
          num(r.p99, 2),
          x ? times(x.p99x) : "–",
          num(r.cpuUsPerDelivery, 2),
          r.redisCpuUsPerDelivery === undefined ? "–" : num(r.redisCpuUsPerDelivery, 2),
          `${num(r.delivered)} / ${num(r.published * r.open)}`,
          roundsCell(r),
        ];
      }),
    ),
  );
  lines.push("\n*Published msg/s* below the offered rate means the publishing node could not keep its timer (its core was saturated): read the latencies of such a row as an overloaded cluster. With several rounds, p50 and p99 are the median round's; counts and CPU are over all rounds.");
  return lines.join("\n");
}
