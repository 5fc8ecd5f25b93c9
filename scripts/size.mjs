/**
 * Reports the size of the client's ESM browser bundle (what `build.mjs` writes to
 * `packages/client/dist/browser/throughline.js`), built in memory with the same options:
 * raw (bundled, not minified), minified (esbuild then terser, as `build.mjs` ships it), and
 * minified + gzip (zlib level 9, what a CDN serves).
 * These are production builds (`PRODUCTION_DEFINE`: error codes and key values, no sentences).
 *
 * Also reports each combination of transport values on the lean entry (`@throughline/client/core`:
 * `connect` with only the transports an app lists, see `TRANSPORT_COMBINATIONS`), and the Effect
 * client entry (`@throughline/effect/client`: the Effect face with the
 * core client and the Effect modules it uses, tree-shaken), built with the same options.
 *
 * Usage: `node scripts/size.mjs` (or `npm run size`); benchmarks import `measureBundleSize()`.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync, constants } from "node:zlib";
import { BROWSER_ENTRIES, ROOT, bundleForBrowser } from "./build.mjs";

/** Bytes per KB in the printed line (the numbers returned are always bytes). */
export const KB = 1024;

/** Entry of the Effect client's browser bundle. */
export const EFFECT_CLIENT_ENTRY = "packages/effect/src/client.ts";

/**
 * Transport combinations of the lean entry (what an app imports from `@throughline/client/core`),
 * each measured as the entry `export { connect, <values> } from "@throughline/client/core"`.
 */
export const TRANSPORT_COMBINATIONS = Object.freeze({
  "all three": ["sse", "websocket", "longPoll"],
  "SSE + long-poll": ["sse", "longPoll"],
  "SSE only": ["sse"],
  "WS only": ["websocket"],
  "WS + long-poll": ["websocket", "longPoll"],
});

/** The entry source of a transport combination (values named as `@throughline/client/core` exports them). */
export function combinationSource(values) {
  return `export { connect, ${values.join(", ")} } from "@throughline/client/core";\n`;
}

async function bundleBytes(minify, extra) {
  // No sourcemap: its comment would count against the bundle. Minified: exactly what ships
  // (esbuild, then terser: `bundleForBrowser`).
  const { js } = await bundleForBrowser({ minify, sourcemap: false, outfile: "throughline.js", ...extra });
  return Buffer.from(js);
}

async function measure(extra) {
  const [raw, min] = await Promise.all([bundleBytes(false, extra), bundleBytes(true, extra)]);
  const gzip = gzipSync(min, { level: constants.Z_BEST_COMPRESSION }).length;
  return { raw: raw.length, min: min.length, gzip };
}

/**
 * Builds one ESM browser bundle (default: the core `connect()` entry) in memory and measures it.
 * @param {string} [entry] source path (relative to the repository root, as in `BROWSER_ENTRIES`) @default the core client
 * @param {string[]} [external] imports left out of the bundle @default []
 * @returns {Promise<{ raw: number, min: number, gzip: number }>} sizes in bytes.
 */
export function measureBundleSize(entry = BROWSER_ENTRIES.throughline, external) {
  // Effect names its own internals `_tag`, `_id`, …: its bundle keeps every property name.
  const mangle = entry === EFFECT_CLIENT_ENTRY ? { mangleProps: undefined } : {};
  return measure({ entryPoints: [resolve(ROOT, entry)], ...(external ? { external } : {}), ...mangle });
}

/**
 * Measures the bundle of an app that uses only `values` of `@throughline/client/core`.
 * @param {string[]} values export names of transport values, e.g. `["sse", "longPoll"]`
 * @returns {Promise<{ raw: number, min: number, gzip: number }>} sizes in bytes.
 */
export function measureCombinationSize(values) {
  return measure({ entryPoints: undefined, stdin: { contents: combinationSource(values), resolveDir: ROOT, loader: "js", sourcefile: "combination.js" } });
}

/** `14.2 KB` (KB = 1024 bytes). */
export function formatKb(bytes) {
  return `${(bytes / KB).toFixed(1)} KB`;
}

/** The line `npm run size` prints for an entry (`label` defaults to the core bundle's). */
export function formatSizeLine({ raw, min, gzip }, label = "@throughline/client browser bundle") {
  return `${label}: ${formatKb(min)} min, ${formatKb(gzip)} min+gzip (${formatKb(raw)} unminified; ${min} / ${gzip} / ${raw} bytes)`;
}

/** Label of each entry in `npm run size`. */
const LABELS = { throughline: "@throughline/client browser bundle", eventsource: "@throughline/client/eventsource", share: "@throughline/client/share", "share-worker": "share-worker.js (SharedWorker script)" };

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  Promise.all([
    ...Object.entries(BROWSER_ENTRIES).map(async ([name, entry]) => formatSizeLine(await measureBundleSize(entry), LABELS[name] ?? name)),
    ...Object.entries(TRANSPORT_COMBINATIONS).map(async ([name, values]) => formatSizeLine(await measureCombinationSize(values), `@throughline/client/core, ${name}`)),
    measureBundleSize(EFFECT_CLIENT_ENTRY).then((s) => formatSizeLine(s, "@throughline/effect/client")),
    // What an app that already bundles Effect pays: the core client plus the Effect face.
    measureBundleSize(EFFECT_CLIENT_ENTRY, ["effect", "effect/*"]).then((s) => formatSizeLine(s, "@throughline/effect/client without effect itself")),
  ]).then(
    (lines) => console.log(lines.join("\n")),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
