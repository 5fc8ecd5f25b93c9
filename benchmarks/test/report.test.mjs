import { describe, expect, it } from "vitest";
import { renderTables } from "../report/table.mjs";
import { clusterRatios, ratioToRaw, rawOf, roundTwoHeadlines } from "../report/summary.mjs";

const fan = (system, cpu, msgs, clientCpuPct = 50) => ({ scenario: "fanout", system, n: 1000, open: 1000, size: 64, msgsPerSec: msgs, cpuUsPerDelivery: cpu, clientCpuPct });
const rate = (system, p50, p99) => ({ scenario: "rate", system, n: 1000, open: 1000, size: 64, rate: 100, p50, p99, max: p99 * 2, cpuUsPerDelivery: 7, lost: 0 });
const high = (system, r, cpu, clientCpuPct = 40) => ({ scenario: "cpu-rate", system, n: 1000, open: 1000, size: 64, rate: r, achieved: r / 2, cpuUsPerDelivery: cpu, serverCpuPct: 99, clientCpuPct, p99: 12, lost: 0 });
const cluster = (system, nodes, p99, cpu) => ({
  scenario: "cluster",
  system,
  setup: nodes === 1 ? "1 node" : `${nodes} nodes + Redis`,
  nodes,
  n: 1000,
  open: 1000,
  size: 64,
  rate: 100,
  published: 200,
  achieved: 100,
  delivered: 200_000,
  p50: p99 / 3,
  p99,
  cpuUsPerDelivery: cpu,
  redisCpuUsPerDelivery: nodes === 1 ? undefined : 0.5,
});

const rows = [
  fan("throughline-sse", 1.2, 600, 95),
  fan("raw-sse", 1.5, 580),
  fan("throughline-ws", 5.5, 170),
  fan("raw-ws", 5.0, 180),
  fan("throughline-poll", 0.7, 800),
  rate("throughline-sse", 12, 30),
  rate("raw-sse", 10, 20),
  rate("throughline-ws", 9, 22),
  rate("raw-ws", 8, 20),
  high("throughline-sse", 1000, 1.0),
  high("raw-sse", 1000, 1.6, 95),
  high("throughline-sse", 5000, 0.6),
  high("raw-sse", 5000, 1.0),
  high("throughline-ws", 1000, 4.0),
  high("raw-ws", 1000, 4.0),
  high("socketio-ws", 1000, 6.0),
  cluster("throughline-ws", 1, 20, 10),
  cluster("throughline-ws", 3, 26, 20),
  cluster("socketio-ws", 1, 10, 12),
  cluster("socketio-ws", 3, 30, 15),
];
const meta = { pinning: { enabled: true, server: "0", clients: "1", reason: "pinned with taskset: server under test on core 0, load clients and runner on core 1" }, redis: { version: "7.0.15", pinned: true } };

describe("ratios to the raw baseline", () => {
  it("pairs each system with the raw server of its protocol", () => {
    expect(rawOf("throughline-ws")).toBe("raw-ws");
    expect(rawOf("socketio-ws")).toBe("raw-ws");
    expect(rawOf("better-sse")).toBe("raw-sse");
    expect(rawOf("throughline-poll")).toBeUndefined();
    expect(ratioToRaw(rows, rows.find((r) => r.scenario === "cpu-rate" && r.system === "throughline-sse" && r.rate === 5000), "cpuUsPerDelivery", (b) => b.rate === 5000)).toBeCloseTo(0.6);
    expect(ratioToRaw(rows, rows.find((r) => r.system === "throughline-poll"), "cpuUsPerDelivery")).toBeNaN();
  });

  it("divides each multi-node p99 by the same system's one-node p99", () => {
    expect(clusterRatios(rows)).toEqual([
      { system: "throughline-ws", setup: "3 nodes + Redis", p99: 26, oneP99: 20, p99x: 1.3, cpux: 2 },
      { system: "socketio-ws", setup: "3 nodes + Redis", p99: 30, oneP99: 10, p99x: 3, cpux: 1.25 },
    ]);
  });
});

describe("round-two headlines", () => {
  it("reports the ≤ 0.8× CPU, 1.2× p99 and 1.5× multi-node targets, met or not", () => {
    const hl = roundTwoHeadlines(rows);
    const by = (re) => hl.find((h) => re.test(h.text));
    expect(by(/SSE server CPU/)).toMatchObject({ shown: "0.63× at 1,000 msg/s, 0.60× at 5,000 msg/s", met: true });
    expect(by(/WebSocket server CPU/)).toMatchObject({ shown: "1.00× at 1,000 msg/s", met: false });
    expect(by(/SSE p99/)).toMatchObject({ shown: "1.50× (30.0 ms)", met: false });
    expect(by(/WebSocket p99/)).toMatchObject({ shown: "1.10× (22.0 ms)", met: true });
    expect(by(/3 nodes/)).toMatchObject({ text: "Throughline WebSocket: 3 nodes + Redis p99 within 1.5× one node", shown: "1.30× (26.0 vs 20.0 ms)", met: true });
  });

  it("judges the full client's size on the shipped (esbuild + terser) bytes and shows esbuild's alone", () => {
    const size = (gzip, terserGzip) => [{ scenario: "size", system: "@throughline/client", min: 26_000, gzip, terserMin: 25_500, terserGzip }];
    const by = (rs) => roundTwoHeadlines(rs).find((h) => h.text.startsWith("Full browser client"));
    expect(by(size(10_634, 10_050))).toMatchObject({ shown: "10,050 B esbuild + terser, as the shipped bundles are minified (10,634 B esbuild alone)", met: true });
    expect(by(size(10_800, 10_241))).toMatchObject({ met: false });
    expect(by([{ scenario: "size", system: "@throughline/client", min: 1, gzip: 1 }])).toMatchObject({ shown: "not measured", met: undefined });
  });

  it("says not measured when the rows are missing", () => {
    const hl = roundTwoHeadlines([]);
    expect(hl.map((h) => h.shown)).toEqual(["not measured", "not measured", "not measured", "not measured", "not measured"]);
    expect(hl.every((h) => h.met === undefined)).toBe(true);
  });
});

describe("renderTables", () => {
  const md = renderTables({ meta, results: rows });
  const line = (start) => md.split("\n").find((l) => l.startsWith(start));

  it("says how processes were pinned", () => {
    expect(md).toContain("Cores: pinned with taskset: server under test on core 0, load clients and runner on core 1; redis-server 7.0.15 on the server core with the nodes.");
  });

  it("puts server CPU per delivery and its ratio to raw first in the fan-out table, keeping the client-bound mark", () => {
    expect(line("| system | server µs CPU / delivery (N=1,000, 64 B) | × raw | N=1,000, 64 B |")).toBeDefined();
    expect(line("| Throughline SSE |")).toBe("| Throughline SSE | 1.20 | 0.80× | 600¹ |");
    expect(line("| Throughline long-poll |")).toBe("| Throughline long-poll | 0.70 | – | 800 |");
  });

  it("adds p50 and p99 ratios to raw in the latency table", () => {
    expect(md).toContain("| Throughline WebSocket | 9.00 | 22.00 | 1.13× | 1.10× | 44.0 | 7.00 | – | – | 0 | – |");
  });

  it("shows the busiest load client's CPU in the latency table, with a note when one was above 90%", () => {
    const quiet = renderTables({ meta, results: [{ ...rate("raw-ws", 8, 20), clientCpuPct: 60 }] });
    expect(quiet).toContain("| raw ws (limit) | 8.00 | 20.00 | 1.00× | 1.00× | 40.0 | 7.00 | 60% | – | 0 | – |");
    expect(quiet).not.toContain("queues deliveries itself");
    const busy = renderTables({ meta, results: [{ ...rate("raw-ws", 8, 20), clientCpuPct: 95 }] });
    expect(busy).toContain("| 95% |");
    expect(busy).toContain("A busiest load client near 100% CPU queues deliveries itself");
  });

  it("renders the high-rate CPU rows with the ratio to raw and client-bound marks", () => {
    expect(md).toContain("### Server CPU per delivery at high rates (N=1,000, 64 B)");
    expect(md).toContain("| Throughline SSE | 5,000 | 0.60 | 0.60× | 2,500² | 99% | 40% | 12.0 | 0 |");
    expect(md).toContain("| raw SSE writer (limit) | 1,000 | 1.60 | 1.00× | 500¹ | 99% | 95% | 12.0 | 0 |");
    expect(md).toContain("| Socket.IO websocket | 1,000 | 6.00 | 1.50× | 500² | 99% | 40% | 12.0 | 0 |");
  });

  it("does not mark a high-rate row that reached the offered rate", () => {
    const md2 = renderTables({ meta, results: [{ ...high("raw-ws", 1000, 4.0), achieved: 990 }] });
    expect(md2).toContain("| raw ws (limit) | 1,000 | 4.00 | 1.00× | 990 | 99% | 40% | 12.0 | 0 |");
  });

  it("renders one node next to three with the p99 ratio and Redis CPU", () => {
    expect(md).toContain("### Multi-node: one node vs nodes sharing one Redis (N=1,000 spread over the nodes, 100 msg/s of 64 B published on the first node)");
    expect(md).toContain("| Throughline WebSocket | 1 node | 100 | 6.67 | 20.00 | – | 10.00 | – | 200,000 / 200,000 | – |");
    expect(md).toContain("| Socket.IO websocket | 3 nodes + Redis | 100 | 10.00 | 30.00 | 3.00× | 15.00 | 0.50 | 200,000 / 200,000 | – |");
  });

  it("lists each round's p99 of a latency row measured in rounds, with a note on the median", () => {
    const rounds = [{ p50: 8, p99: 30, max: 40 }, { p50: 9, p99: 20, max: 60 }, { p50: 7, p99: 25, max: 35 }];
    const out = renderTables({ meta, results: [{ ...rate("raw-ws", 8, 25), rounds }] });
    expect(out).toContain("| raw ws (limit) | 8.00 | 25.00 | 1.00× | 1.00× | 50.0 | 7.00 | – | – | 0 | 30.0 / 20.0 / 25.0 |");
    expect(out).toContain("Measured in rounds (3 of the same length");
    expect(renderTables({ meta, results: [rate("raw-ws", 8, 25)] })).not.toContain("Measured in rounds");
  });

  it("judges the WebSocket p99 on the Unix-socket rows when the TCP limit fell behind its schedule", () => {
    const held = (row, published, scenario = "rate") => ({ ...row, scenario, offered: 3000, published });
    const tcp = [held(rate("throughline-ws", 15, 30), 3000), held(rate("raw-ws", 1500, 2800), 2299)];
    const unix = [held(rate("throughline-ws", 4, 9.9), 3000, "rate-unix"), held(rate("raw-ws", 4, 9), 3000, "rate-unix")];
    const ws = (results) => roundTwoHeadlines(results).find((h) => h.text.startsWith("Throughline WebSocket p99"));
    expect(ws([...tcp, ...unix])).toMatchObject({
      met: true,
      shown: "1.10× (9.9 vs 9.0 ms) over a Unix socket with the native load client; raw ws (limit) held only 2,299 of 3,000 messages over TCP (p99 2800 ms)",
    });
    // Over the target there, it is not met; a Unix-socket limit that fell behind decides nothing.
    expect(ws([...tcp, held(rate("throughline-ws", 4, 12), 3000, "rate-unix"), unix[1]])).toMatchObject({ met: false });
    expect(ws([...tcp, unix[0], held(rate("raw-ws", 400, 900), 2000, "rate-unix")])).toMatchObject({ met: undefined });
    // Only the Unix-socket rows: they decide.
    expect(ws(unix)).toMatchObject({ met: true });
    // A TCP limit that held its schedule decides, whatever the Unix-socket rows say.
    expect(ws([held(rate("throughline-ws", 15, 30), 3000), held(rate("raw-ws", 15, 20), 3000), ...unix])).toMatchObject({ met: false, shown: "1.50× (30.0 ms)" });
    // In rounds: the limit's stalled median round does not carry Throughline; its best round decides too.
    const rounds = (row, p99s) => ({ ...row, rounds: p99s.map((p99) => ({ p50: 1, p99, max: p99 })) });
    const stalled = [rounds({ ...unix[0], p99: 16.7 }, [11.2, 16.7, 19.2]), rounds(held(rate("raw-ws", 6, 153.4), 3000, "rate-unix"), [294.9, 153.4, 10.2])];
    expect(ws([...tcp, ...stalled])).toMatchObject({ met: true, shown: expect.stringContaining("0.11× (16.7 vs 153.4 ms; best rounds 11.2 vs 10.2 ms, 1.10×)") });
    stalled[0] = rounds({ ...unix[0], p99: 16.7 }, [13.2, 16.7, 19.2]);
    expect(ws([...tcp, ...stalled])).toMatchObject({ met: false });
    const md = renderTables({ meta, results: [...tcp, ...unix] });
    expect(md).toContain("### WebSocket latency over a Unix socket with the native load client (100 msg/s of 64 B, N=1,000)");
    expect(md).toContain("| Throughline WebSocket | 4.00 | 9.90 | 1.00× | 1.10× |");
  });

  it("does not call a raw baseline that could not publish on schedule a limit, and marks its row", () => {
    const held = (row, published) => ({ ...row, offered: 3000, published });
    const results = [held(rate("throughline-ws", 15, 30), 3000), held(rate("raw-ws", 1500, 2800), 2299), held(rate("throughline-sse", 20, 40), 3000), held(rate("raw-sse", 30, 60), 2990)];
    const hl = roundTwoHeadlines(results);
    const ws = hl.find((h) => h.text.startsWith("Throughline WebSocket p99"));
    expect(ws).toMatchObject({ met: undefined, shown: "30.0 ms; raw ws (limit) held only 2,299 of 3,000 messages over TCP (p99 2800 ms): no limit to compare with" });
    // 2,990 of 3,000 is within 5%: a valid limit.
    expect(hl.find((h) => h.text.startsWith("Throughline SSE p99"))).toMatchObject({ met: true });
    const md = renderTables({ meta, results });
    expect(md).toContain("| 2,299 of 3,000⁴ |");
    expect(md).toContain("| 3,000 of 3,000 |");
    expect(md).toContain("⁴ published less than 95% of what the schedule offered");
  });

  it("marks a fan-out row where nothing was delivered, with the server's longest loop hold", () => {
    const stuck = { ...fan("throughline-ws", NaN, 0), n: 10_000, open: 10_000, max: true, deliveriesPerSec: 0, serverCpuPct: 94.6, loopMaxMs: 2400 };
    const out = renderTables({ meta, results: [fan("throughline-ws", 5.5, 170), fan("raw-ws", 5.0, 180), stuck] });
    expect(out).toContain("| 0 (N=10,000)³ |");
    expect(out).toContain("³ nothing was delivered in the measured window (Throughline WebSocket N=10,000 64 B: server loop held ≤ 2,400 ms, server CPU 95%).");
    expect(renderTables({ meta, results: [fan("throughline-ws", 5.5, 170)] })).not.toContain("³");
  });

  it("renders results written before pinning existed without a cores line", () => {
    expect(renderTables({ meta: {}, results: rows.filter((r) => r.scenario === "fanout") })).not.toContain("Cores:");
  });
});
