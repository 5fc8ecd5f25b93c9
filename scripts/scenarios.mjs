/**
 * `npm run scenarios`: runs every hostile-network scenario of `@throughline/testkit` (testkit
 * proxies and a real nginx) against the built packages and prints a Markdown table: hostile
 * network × transport chosen × time to first message × published during negotiation (delivered /
 * published) × messages lost × largest gap × switches; then the fixed-duration cut rows, the
 * climb-back row and the long-poll load rows (issue #10).
 *
 * Builds first (like the demo test), then imports the testkit's `dist`. nginx rows need nginx
 * (`.ci/run` installs it); without it they are reported as not run.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { ROOT, build } from "./build.mjs";

await build({ quiet: true });
const { SCENARIOS, formatScenarioTable, hasNginx, runScenario, runCutScenario, runClimbScenario, runLongPollLoad } = await import(pathToFileURL(join(ROOT, "packages/testkit/dist/scenarios.js")).href);

const nginx = hasNginx();
const rows = [];
const started = Date.now();
for (const s of SCENARIOS) {
  if (s.nginx && !nginx) {
    console.error(`skipped ${s.name}: nginx is not installed`);
    continue;
  }
  const r = await runScenario(s);
  rows.push(r);
  console.error(`${s.name}: ${r.transport} in ${r.firstMessageMs} ms, negotiation ${r.negotiation.delivered}/${r.negotiation.published}, lost ${r.lost}, duplicates ${r.duplicates}, gap ${r.maxGapMs} ms, switches ${r.switches}`);
}
console.log(formatScenarioTable(rows));

const cuts = [];
for (const cutMs of [1_500, 5_000]) cuts.push(await runCutScenario({ cutMs, intervalMs: 100 }));
console.log("\n| fixed-duration cut | transport | messages lost | duplicates | largest gap | rotations (make-before-break) |\n|---|---|---|---|---|---|");
for (const r of cuts) console.log(`| ${r.name} | ${r.transport} | ${r.lost} / ${r.published} | ${r.duplicates} | ${r.maxGapMs} ms | ${r.rotations} |`);

const climb = await runClimbScenario(3_000);
console.log("\n| climb back | transports | back on SSE after healing | stated bound | messages lost | duplicates |\n|---|---|---|---|---|---|");
console.log(`| ${climb.name} | ${climb.transports.join(" → ")} | ${climb.climbMs === null ? "not within the wait" : `${climb.climbMs} ms`} | ${climb.boundMs} ms | ${climb.lost} / ${climb.published} | ${climb.duplicates} |`);

const loads = [];
for (const rate of [500, 5_000]) loads.push(await runLongPollLoad(rate, 3));
console.log("\n| long-poll load (default server limits) | 429 answers | messages lost | duplicates |\n|---|---|---|---|");
for (const r of loads) console.log(`| ${r.name} | ${r.rateLimited} | ${r.lost} / ${r.published} | ${r.duplicates} |`);
console.log(`\n${rows.length} scenarios, 30 messages published in each (counted from the client's first request), in ${((Date.now() - started) / 1000).toFixed(1)} s (Node ${process.version}).`);
const bad = [
  ...rows.filter((r) => r.lost > 0 || r.duplicates > 0 || r.outOfOrder > 0 || r.transport === null || r.negotiation.delivered < r.negotiation.published),
  ...cuts.filter((r) => r.lost > 0 || r.duplicates > 0 || r.maxGapMs > 300),
  ...(climb.climbMs === null || climb.climbMs > climb.boundMs || climb.lost > 0 || climb.duplicates > 0 ? [climb] : []),
  ...loads.filter((r) => r.rateLimited > 0 || r.lost > 0 || r.duplicates > 0),
];
if (bad.length > 0) {
  console.error(`FAILED: ${bad.map((r) => r.name).join(", ")}`);
  process.exitCode = 1;
}
