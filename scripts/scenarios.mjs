/**
 * `npm run scenarios`: runs every hostile-network scenario of `@throughline/testkit` (testkit
 * proxies and a real nginx) against the built packages and prints a Markdown table: hostile
 * network × transport chosen × time to first message × messages lost × switches.
 *
 * Builds first (like the demo test), then imports the testkit's `dist`. nginx rows need nginx
 * (`.ci/run` installs it); without it they are reported as not run.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { ROOT, build } from "./build.mjs";

await build({ quiet: true });
const { SCENARIOS, formatScenarioTable, hasNginx, runScenario } = await import(pathToFileURL(join(ROOT, "packages/testkit/dist/scenarios.js")).href);

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
  console.error(`${s.name}: ${r.transport} in ${r.firstMessageMs} ms, lost ${r.lost}, duplicates ${r.duplicates}, switches ${r.switches}`);
}
console.log(formatScenarioTable(rows));
console.log(`\n${rows.length} scenarios, ${rows[0]?.published ?? 0} messages each, in ${((Date.now() - started) / 1000).toFixed(1)} s (Node ${process.version}).`);
const bad = rows.filter((r) => r.lost > 0 || r.duplicates > 0 || r.outOfOrder > 0 || r.transport === null);
if (bad.length > 0) {
  console.error(`FAILED: ${bad.map((r) => r.name).join(", ")}`);
  process.exitCode = 1;
}
