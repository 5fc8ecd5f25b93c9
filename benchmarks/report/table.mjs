/**
 * The results as Markdown tables (readable in a terminal, pasteable into the README): headlines,
 * fan-out, latency, CPU, memory, time to first message and client size.
 */
import { conditionKey, conditionLabel, fanoutConditions, headlines, heldRate, label, ratioToRaw, times } from "./summary.mjs";
import { kb, num, table } from "./markdown.mjs";
import { clientBound, renderCluster, renderCpuRate, renderPinning, roundsCell, stalled } from "./round-two.mjs";
import { largestCommonLevel } from "../scenarios/scale.mjs";

const systemsOf = (rows, scenario) => [...new Set(rows.filter((r) => r.scenario === scenario).map((r) => r.system))];

/** @param {{ meta: object, results: object[] }} doc */
export function renderTables(doc) {
  const rows = doc.results;
  const parts = [];

  const hl = headlines(rows);
  parts.push("### Headlines (targets are reported, not asserted)\n");
  parts.push(table(["target", "measured", "met?"], hl.map((h) => [h.text, h.shown, h.met === undefined ? "–" : h.met ? "yes" : "**no**"])));
  parts.push(renderPinning(doc.meta));

  const conds = fanoutConditions(rows);
  if (conds.length) {
    parts.push("\n### Fan-out: server CPU per delivery, and messages/s delivered to every subscriber (one publisher)\n");
    const sys = systemsOf(rows, "fanout");
    const get = (s, c) => rows.find((r) => r.scenario === "fanout" && r.system === s && conditionKey(r) === c.key);
    parts.push(
      table(
        // Server CPU per delivery first (issue #15, 3): on two cores the load clients often set
        // the throughput (¹), while the server's own cost per delivery stays meaningful.
        ["system", "server µs CPU / delivery (N=1,000, 64 B)", "× raw", ...conds.map(conditionLabel)],
        sys.map((s) => {
          const cpu = rows.find((r) => r.scenario === "fanout" && r.system === s && r.n === 1000 && r.size === 64 && !r.max);
          return [
            label(s),
            `${num(cpu?.cpuUsPerDelivery, 2)}`,
            cpu ? times(ratioToRaw(rows, cpu, "cpuUsPerDelivery", (b) => b.n === 1000 && b.size === 64 && !b.max)) : "–",
            ...conds.map((c) => {
              const r = get(s, c);
              if (!r) return "–";
              return `${num(r.msgsPerSec)}${c.max ? ` (N=${num(r.open)})` : ""}${clientBound(r)}${stalled(r)}`;
            }),
          ];
        }),
      ),
    );
    parts.push("\n¹ the busiest load-client process was above 90% CPU: the client, not the server, may have been the limit.");
    const stalls = rows.filter((r) => r.scenario === "fanout" && stalled(r));
    if (stalls.length) {
      const held = stalls.map((r) => `${label(r.system)} N=${num(r.open)} ${r.size} B: server loop held ≤ ${r.loopMaxMs === undefined ? "–" : num(r.loopMaxMs)} ms, server CPU ${num(r.serverCpuPct)}%`);
      parts.push(`\n³ nothing was delivered in the measured window (${held.join("; ")}).`);
    }
  }

  const rateTable = renderRate(rows, "rate", (r0) => `Latency and CPU at a fixed rate (${num(r0.rate)} msg/s of ${r0.size} B, N=${num(r0.n)})`);
  if (rateTable) parts.push(rateTable);
  const unixTable = renderRate(
    rows,
    "rate-unix",
    (r0) => `WebSocket latency over a Unix socket with the native load client (${num(r0.rate)} msg/s of ${r0.size} B, N=${num(r0.n)})`,
    "Where the TCP row above cannot compare (on two cores the raw limit needs its whole core for the loopback's kernel work, and one Node load client its whole core): the same row over a Unix socket, with the load client of native/ws-load.c, so neither the servers nor the client saturate a core.",
  );
  if (unixTable) parts.push(unixTable);

  const cpuRate = renderCpuRate(rows);
  if (cpuRate) parts.push(cpuRate);
  const cluster = renderCluster(rows);
  if (cluster) parts.push(cluster);

  const mem = rows.filter((r) => r.scenario === "memory");
  if (mem.length) {
    const ns = [...new Set(mem.map((r) => r.n))].sort((a, b) => a - b);
    parts.push("\n### Server memory per idle connection (growth after a full GC / N)\n");
    parts.push(
      table(
        ["system", ...ns.flatMap((n) => [`RSS N=${num(n)}`, `heap N=${num(n)}`])],
        systemsOf(rows, "memory").map((s) => [
          label(s),
          ...ns.flatMap((n) => {
            const r = mem.find((x) => x.system === s && x.n === n);
            return [kb(r?.rssPerConn), kb(r?.heapPerConn)];
          }),
        ]),
      ),
    );
  }

  const scale = rows.filter((r) => r.scenario === "scale");
  if (scale.length) {
    const common = largestCommonLevel(rows);
    parts.push("\n### Scale: idle connections held (server RSS after a full GC; per GB at that RSS per connection)\n");
    parts.push(
      table(
        ["system", "N asked", "held", "server processes", "server RSS", "RSS / connection", "connections / GB"],
        scale.map((r) => [label(r.system), num(r.n), `${num(r.open)}${r.held ? "" : " (not held)"}`, num(r.serverProcesses ?? 1), `${num(r.rss / 2 ** 20)} MB`, kb(r.rssPerConn), num(r.perGb)]),
      ),
    );
    const limit = scale.find((r) => r.fdLimit)?.fdLimit;
    parts.push(`\nLargest N every system held: ${common === undefined ? "none" : num(common)}.${limit ? ` Open-file limit ${num(limit)} per process: levels above it ran on a node:cluster of server processes sharing one port, RSS summed over all of them.` : ""}`);
  }

  const ttfm = rows.filter((r) => r.scenario === "ttfm");
  if (ttfm.length) {
    const nets = [...new Set(ttfm.map((r) => r.network))];
    parts.push("\n### Time to first message from connect(), median ms (failed trials in brackets)\n");
    parts.push(
      table(
        ["client", ...nets],
        systemsOf(rows, "ttfm").map((s) => [
          s,
          ...nets.map((n) => {
            const r = ttfm.find((x) => x.system === s && x.network === n);
            if (!r) return "";
            const via = r.transports && Object.keys(r.transports).length && !/-/.test(s) ? ` ${Object.keys(r.transports).join("/")}` : "";
            return r.ok ? `${num(r.median, 1)}${via}${r.failures ? ` [${r.failures}/${r.trials}]` : ""}` : `fails [${r.failures}/${r.trials}]`;
          }),
        ]),
      ),
    );
  }

  const neg = ttfm.filter((r) => r.negotiation);
  if (neg.length) {
    const nets = [...new Set(neg.map((r) => r.network))];
    parts.push("\n### Published during negotiation and largest delivery gap (same trials)\n");
    parts.push(
      table(
        ["network", "client", "first message, median ms", "published during negotiation: delivered / published", "largest gap, median ms (max)"],
        nets.flatMap((n) =>
          neg
            .filter((r) => r.network === n)
            .map((r) => {
              const via = r.transports && Object.keys(r.transports).length && !/-/.test(r.system) ? ` ${Object.keys(r.transports).join("/")}` : "";
              return [
                n,
                r.system,
                r.ok ? `${num(r.median, 1)}${via}` : `fails [${r.failures}/${r.trials}]`,
                r.negotiation.trials ? `${num(r.negotiation.delivered)} / ${num(r.negotiation.published)}` : "–",
                Number.isFinite(r.gapMedian) ? `${num(r.gapMedian)} (${num(r.gapMax)})` : "–",
              ];
            }),
        ),
      ),
    );
  }

  const size = rows.filter((r) => r.scenario === "size");
  if (size.length) {
    parts.push("\n### Browser client size (esbuild, minified, gzip -9)\n");
    const bytes = (n) => (n === undefined ? "–" : `${n.toLocaleString("en-US")} B`);
    parts.push(
      table(
        ["library", "version", "min", "min+gzip", "min+gzip, + terser⁵"],
        size.map((r) => [r.system, r.version ?? "", r.error ? `error: ${r.error}` : kb(r.min), r.error ? "" : `${kb(r.gzip)} (${bytes(r.gzip)})`, r.error ? "" : bytes(r.terserGzip)]),
      ),
    );
    parts.push("\n⁵ the same esbuild bundle minified again by terser (one pass, safe transforms; webpack's default minifier), for every library alike. Throughline's shipped `dist/browser` bundles are made this way.\n");
    // Sizes are exact and machine-independent: `--refresh-size` re-measures them in an earlier
    // result without re-running the timed scenarios, and says so here.
    const again = doc.meta?.sizeMeasured;
    if (again) parts.push(`\nThese size rows were re-measured on ${again.date} at commit ${again.commit}; every other row is from the run of ${doc.meta.date}.\n`);
  }

  const errors = rows.filter((r) => r.scenario === "error");
  if (errors.length) {
    parts.push("\n### Failures\n");
    for (const e of errors) parts.push(`- ${e.system} (${e.stage}): ${e.message}`);
  }
  return parts.join("\n");
}

/** The fixed-rate latency table of `scenario`'s rows (`rate`, `rate-unix`), or "" when none. */
function renderRate(rows, scenario, title, intro) {
  const rate = rows.filter((r) => r.scenario === scenario);
  if (!rate.length) return "";
  const parts = [`\n### ${title(rate[0])}\n`];
  if (intro) parts.push(`${intro}\n`);
  parts.push(
    table(
      ["system", "p50 ms", "p99 ms", "p50 × raw", "p99 × raw", "max ms", "server µs CPU / delivery", "busiest client CPU", "published of offered", "lost", "p99 of each round ms"],
      rate.map((r) => [label(r.system), num(r.p50, 2), num(r.p99, 2), times(ratioToRaw(rows, r, "p50")), times(ratioToRaw(rows, r, "p99")), num(r.max, 1), num(r.cpuUsPerDelivery, 2), r.clientCpuPct === undefined ? "–" : `${num(r.clientCpuPct)}%`, r.offered === undefined ? "–" : `${num(r.published)} of ${num(r.offered)}${heldRate(r) ? "" : "⁴"}`, num(r.lost), roundsCell(r)]),
    ),
  );
  if (rate.some((r) => !heldRate(r))) {
    parts.push("\n⁴ published less than 95% of what the schedule offered: the server held back its own publisher (latency counts from when each message was due, so that backlog is in its p50 and p99).");
  }
  const inRounds = rate.find((r) => r.rounds && r.rounds.length > 1);
  if (inRounds) {
    parts.push(`\nMeasured in rounds (${inRounds.rounds.length} of the same length, one after the other on the same subscribers): p50 and p99 are the median round's, max the largest, counts and CPU over all rounds. One round's p99 on a shared 2-core machine moves by tens of percent from run to run.`);
  }
  // Near 100%, deliveries wait in the load client's own queue: part of the tail is the client's.
  if (rate.some((r) => r.clientCpuPct > 90)) parts.push("\nA busiest load client near 100% CPU queues deliveries itself: the tail then measures the client as much as the server.");
  return parts.join("\n");
}
