/**
 * Browser client size: each library bundled the same way with esbuild from a one-line entry
 * that exports its main client (so tree shaking keeps exactly what an application would ship),
 * for the browser (`browser` fields and export conditions), minified, then gzip level 9; and the
 * same bundle minified again by terser (webpack's default minifier, and the second pass of
 * Throughline's own shipped bundles), with the same terser options for every library.
 *
 * Usage: node benchmarks/size.mjs (prints a table), or `--scenarios size` in run.mjs.
 */
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { constants, gzipSync } from "node:zlib";
import { minify as terser } from "terser";
import { terserOptions } from "../scripts/build.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Library → the entry file's text. */
export const SIZE_ENTRIES = Object.freeze({
  "@throughline/client": 'export { connect } from "@throughline/client";',
  // Pay only for the transports you use: the lean entry with transport values (README, Client).
  "@throughline/client/core SSE + long-poll": 'export { connect, sse, longPoll } from "@throughline/client/core";',
  "@throughline/client/core SSE only": 'export { connect, sse } from "@throughline/client/core";',
  "@throughline/client/core WS only": 'export { connect, websocket } from "@throughline/client/core";',
  "@throughline/client/core WS + long-poll": 'export { connect, websocket, longPoll } from "@throughline/client/core";',
  "socket.io-client": 'export { io } from "socket.io-client";',
  "@microsoft/signalr": 'export { HubConnectionBuilder } from "@microsoft/signalr";',
  "sockjs-client": 'export { default } from "sockjs-client";',
  centrifuge: 'export { Centrifuge } from "centrifuge";',
});

/** One esbuild configuration for every library. */
export const SIZE_BUILD_OPTIONS = Object.freeze({
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  // The browsers Throughline's own bundle targets (scripts/build.mjs), for every library alike:
  // a bare "es2020" would lower class fields and private names that all of them support.
  target: ["chrome90", "firefox90", "safari15"],
  legalComments: "none",
  // What every browser build does: no Node env checks left in.
  // Throughline's own production switch is `__THROUGHLINE_DEV__` (see packages/wire/src/dev.ts).
  define: { "process.env.NODE_ENV": '"production"', global: "globalThis", __THROUGHLINE_DEV__: "false" },
  logLevel: "silent",
  write: false,
});

async function versionOf(name) {
  try {
    // package.json is often not in a package's exports: walk up from its resolved entry.
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (let i = 0; i < 6; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
        if (pkg.name === name) return pkg.version;
      } catch {
        // no package.json at this level: keep walking up
      }
    }
  } catch {
    // unresolvable: the build reports it
  }
  return undefined;
}

/**
 * @returns {Promise<object[]>} rows `{scenario:"size", system, version, min, gzip, terserMin,
 *   terserGzip}` (bytes; `terser…`: esbuild's bundle minified again by terser) or `{…, error}`
 */
export async function measureSizes(names = Object.keys(SIZE_ENTRIES)) {
  const rows = [];
  for (const name of names) {
    const row = { scenario: "size", system: name, version: await versionOf(name) };
    try {
      const r = await build({
        ...SIZE_BUILD_OPTIONS,
        stdin: { contents: SIZE_ENTRIES[name], resolveDir: HERE, loader: "js", sourcefile: "entry.js" },
        outfile: "out.js",
      });
      const js = r.outputFiles[0].contents;
      row.min = js.length;
      row.gzip = gzipSync(js, { level: constants.Z_BEST_COMPRESSION }).length;
      const again = Buffer.from((await terser(r.outputFiles[0].text, terserOptions("esm"))).code);
      row.terserMin = again.length;
      row.terserGzip = gzipSync(again, { level: constants.Z_BEST_COMPRESSION }).length;
    } catch (err) {
      row.error = (err?.errors?.[0]?.text ?? err?.message ?? String(err)).slice(0, 200);
    }
    rows.push(row);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const r of await measureSizes()) {
    const sizes = `${(r.min / 1024).toFixed(1).padStart(7)} KB min ${String(r.gzip).padStart(6)} B min+gzip, + terser ${String(r.terserGzip).padStart(6)} B`;
    console.log(`${r.system.padEnd(42)} ${r.error ? `ERROR ${r.error}` : sizes}${r.version ? `  (${r.version})` : ""}`);
  }
}
