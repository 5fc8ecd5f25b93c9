/**
 * Reports the size of the client's ESM browser bundle (what `build.mjs` writes to
 * `packages/client/dist/browser/throughline.js`), built in memory with the same options:
 * raw (bundled, not minified), minified, and minified + gzip (zlib level 9, what a CDN serves).
 *
 * Usage: `node scripts/size.mjs` (or `npm run size`); benchmarks import `measureBundleSize()`.
 */
import { build as esbuild } from "esbuild";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync, constants } from "node:zlib";
import { browserBundleOptions } from "./build.mjs";

/** Bytes per KB in the printed line (the numbers returned are always bytes). */
export const KB = 1024;

async function bundleBytes(minify) {
  // No sourcemap: its comment would count against the bundle.
  const result = await esbuild(browserBundleOptions({ minify, sourcemap: false, outfile: "throughline.js" }));
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  return js.contents;
}

/**
 * Builds the ESM browser bundle in memory and measures it.
 * @returns {Promise<{ raw: number, min: number, gzip: number }>} sizes in bytes.
 */
export async function measureBundleSize() {
  const [raw, min] = await Promise.all([bundleBytes(false), bundleBytes(true)]);
  const gzip = gzipSync(min, { level: constants.Z_BEST_COMPRESSION }).length;
  return { raw: raw.length, min: min.length, gzip };
}

/** `14.2 KB` (KB = 1024 bytes). */
export function formatKb(bytes) {
  return `${(bytes / KB).toFixed(1)} KB`;
}

/** The one line `npm run size` prints. */
export function formatSizeLine({ raw, min, gzip }) {
  return `@throughline/client browser bundle: ${formatKb(min)} min, ${formatKb(gzip)} min+gzip (${formatKb(raw)} unminified; ${min} / ${gzip} / ${raw} bytes)`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  measureBundleSize().then(
    (sizes) => console.log(formatSizeLine(sizes)),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
