/**
 * Prometheus metrics of a Throughline server through `prom-client` (an optional peer
 * dependency: only this entry, `@throughline/server/metrics`, imports it). Every metric is
 * collected from `rt.stats()` at scrape time, so serving costs nothing extra between scrapes.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { registerMetrics } from "@throughline/server/metrics";
 * const register = new Registry();
 * registerMetrics(rt, { register });
 * // GET /metrics → res.end(await register.metrics())
 * ```
 */
import { Counter, Gauge, register as globalRegister, type Registry } from "prom-client";
import type { ThroughlineServer } from "./server.js";
import type { ServerStats } from "./stats.js";

export interface MetricsOptions {
  /** Where the metrics are registered. @default prom-client's global registry */
  readonly register?: Registry;
  /** Prefix of every metric name. @default "throughline_" */
  readonly prefix?: string;
}

/** Defaults of `MetricsOptions`. */
export const DEFAULT_METRICS_OPTIONS = Object.freeze({ prefix: "throughline_" });

type Set = (labels: Record<string, string>, value: number) => void;

/**
 * Registers the server's metrics. Counters (`_total`) are monotonic totals since start; gauges
 * are current values. Returns a function that unregisters them.
 */
export function registerMetrics(rt: ThroughlineServer, options: MetricsOptions = {}): () => void {
  const register = options.register ?? globalRegister;
  const p = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  const names: string[] = [];
  // prom-client counters can only `inc`; a collected total is reported by resetting and adding.
  const metric = (kind: "gauge" | "counter", name: string, help: string, labelNames: string[], fill: (s: ServerStats, set: Set) => void) => {
    names.push(p + name);
    const config = {
      name: p + name,
      help,
      labelNames,
      registers: [register],
      collect(this: Gauge<string> | Counter<string>) {
        const s = rt.stats();
        this.reset();
        fill(s, (labels, v) => (kind === "gauge" ? (this as Gauge<string>).set(labels, v) : (this as Counter<string>).inc(labels, v)));
      },
    };
    if (kind === "gauge") new Gauge(config);
    else new Counter(config);
  };
  const each = (r: Record<string, number>, label: string, set: Set, extra: Record<string, string> = {}) => {
    for (const [k, v] of Object.entries(r)) set({ ...extra, [label]: k }, v);
  };
  metric("gauge", "connections", "Open connections by transport.", ["transport"], (s, set) => each(s.connections, "transport", set));
  metric("counter", "connections_opened_total", "Connections opened, by transport.", ["transport"], (s, set) => each(s.opened, "transport", set));
  metric("counter", "deliveries_total", "Messages handed to connections (one per recipient).", [], (s, set) => set({}, s.deliveries));
  metric("counter", "resumes_total", "Connections opened with a resume cursor.", [], (s, set) => set({}, s.resumes));
  metric("counter", "gaps_total", "Gap frames sent on resume (history did not cover the cursor).", [], (s, set) => set({}, s.gaps));
  metric("counter", "slow_consumer_closes_total", "Connections closed 4408 (the client read too slowly).", [], (s, set) => set({}, s.slowConsumerCloses));
  metric("counter", "rejections_total", "Requests refused or failed, by error code.", ["code"], (s, set) => each(s.rejections, "code", set));
  metric("gauge", "bytes_buffered", "Bytes written but not yet sent, over all open connections.", [], (s, set) => set({}, s.bytesBuffered));
  metric("counter", "client_reports_total", "Client diagnostics reports received.", [], (s, set) => set({}, s.reports));
  metric("counter", "negotiation_attempts_total", "Transport attempts reported by clients, by transport and outcome.", ["transport", "outcome"], (s, set) => {
    for (const [t, n] of Object.entries(s.negotiation)) each(n.outcomes, "outcome", set, { transport: t });
  });
  metric("counter", "negotiation_failures_total", "Failed attempts reported by clients, by transport and reason (numbers folded).", ["transport", "reason"], (s, set) => {
    for (const [t, n] of Object.entries(s.negotiation)) each(n.reasons, "reason", set, { transport: t });
  });
  metric("counter", "negotiation_chosen_total", "Transport clients ended up on, per report.", ["transport"], (s, set) => each(s.chosen, "transport", set));
  metric("counter", "negotiation_reports_by_via_total", "Client reports by the Via header of the reporting request (the proxy on the way).", ["via"], (s, set) => each(s.via, "via", set));
  return () => {
    for (const n of names) register.removeSingleMetric(n);
  };
}
