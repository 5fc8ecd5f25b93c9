/**
 * Builds every package (those `packages.mjs` finds, from their `exports` maps), with esbuild:
 *
 * - `packages/<pkg>/src/**\/*.ts` → `packages/<pkg>/dist/**\/*.js` (+ sourcemaps), one file per
 *   source file, no bundling, so the `import` entries of each `exports` map work in Node. Sources
 *   use `.js` import specifiers already, so no rewriting is needed.
 * - The same as CommonJS in `dist/cjs/` (with a `{"type":"commonjs"}` package.json there), for
 *   the `require` entries: `require()` and `moduleResolution: node10` users.
 * - With `types: true` (`npm run build` does it; tests that only run code skip the cost): the
 *   declarations, `dist/**\/*.d.ts` + declaration maps, by the TypeScript compiler, copied to
 *   `dist/cjs/` for the `require` entries. See `types.mjs`.
 * - The client's browser bundles, with wire and eventsource-parser inlined:
 *   `packages/client/dist/browser/throughline.js` (ESM) and `throughline.iife.js` (global
 *   `Throughline`), production builds (`PRODUCTION_DEFINE`: error codes and key values, no
 *   sentences), and `throughline.dev.js`, the ESM bundle with the full messages. Production
 *   bundles get a second minifier pass, terser's, after esbuild's (see `bundleForBrowser`).
 *
 * Usage: `node scripts/build.mjs` (or `npm run build`); tests import `build()`.
 *
 * Why not "rm -rf dist, then write": test files run in parallel processes and several of them
 * call `build()` while others already serve or import `dist`. So the build happens in memory and
 * is then synced to disk: a file is written only when its bytes changed, through a temporary file
 * renamed into place (never half-written), and files no build output names any more are deleted.
 * The result is the same as a clean build, and concurrent identical builds touch nothing.
 */
import { build as esbuild } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { minify as terser } from "terser";
import { fileURLToPath, pathToFileURL } from "node:url";
import { entries, packageDirs } from "./packages.mjs";
import { emitTypes } from "./types.mjs";

/** Repository root (this file lives in `<root>/scripts`). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Directories of the packages built, dependencies first (declarations need that order). */
export const PACKAGES = Object.freeze(packageDirs());

/** Where the client's browser bundles go, relative to the repository root. */
export const BROWSER_DIR = "packages/client/dist/browser";
export const BROWSER_ESM = `${BROWSER_DIR}/throughline.js`;
export const BROWSER_IIFE = `${BROWSER_DIR}/throughline.iife.js`;
/** The core ESM bundle as a development build: full error messages (the others are production builds). */
export const BROWSER_DEV = `${BROWSER_DIR}/throughline.dev.js`;
/** The doctor page's script, relative to the repository root. */
export const DOCTOR_BROWSER = "packages/doctor/dist/browser/doctor.js";

/**
 * The client's browser entries (ESM bundles in `BROWSER_DIR`, each measured by `npm run size`):
 * the core `connect()`, the `EventSource` facade and tab sharing. Each is bundled on its own, so
 * the core never grows with the others.
 */
export const BROWSER_ENTRIES = Object.freeze({
  throughline: "packages/client/src/index.ts",
  eventsource: "packages/client/src/eventsource/index.ts",
  share: "packages/client/src/share/index.ts",
  "share-worker": "packages/client/src/share/worker-entry.ts",
});

/**
 * Resolves `@throughline/<pkg>` to its TypeScript sources while bundling for the browser, so
 * the bundle never depends on another package's `dist` being built first (or being stale).
 */
const SOURCES = new Map(entries(PACKAGES).map((e) => [e.specifier, join(ROOT, "packages", e.dir, e.source)]));
const sourcesPlugin = {
  name: "throughline-sources",
  setup(b) {
    b.onResolve({ filter: /^@throughline\// }, (args) => {
      const path = SOURCES.get(args.path);
      return path ? { path } : undefined;
    });
  },
};

/**
 * Production bundles only: wire's `DEV` becomes the literal `false` in each Throughline source as
 * esbuild loads it, so a development-only branch is dropped before tree shaking and what only that
 * branch used leaves the bundle too (`closeCodeName` and the `CloseCode` table, for one). An
 * imported `DEV` is folded only when printing, after tree shaking kept what it referenced. Import
 * statements are left as they are (the now unused `DEV` import is dropped as a TypeScript import).
 */
const DEV_OR_IMPORT = /\bimport\s[^;]*?from\s*"[^"]*";|(?<![.\w$])DEV(?![\w$])/g;
const devFoldPlugin = {
  name: "throughline-dev-fold",
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, "utf8");
      if (path.endsWith(`${sep}dev.ts`) || !source.includes("DEV")) return undefined;
      return { contents: source.replace(DEV_OR_IMPORT, (m) => (m === "DEV" ? "false" : m)), loader: "ts" };
    });
  },
};

/**
 * The production build flag of the browser bundles: wire's `DEV` (see `packages/wire/src/dev.ts`)
 * folds to `false`, so errors carry their code and key values instead of full sentences.
 */
export const PRODUCTION_DEFINE = Object.freeze({ __THROUGHLINE_DEV__: "false" });

/** Properties esbuild renames in the browser bundles: `_` then a letter (the client's internals). */
export const MANGLED_PROPS = /^_[A-Za-z]/;

/**
 * esbuild options of the ESM browser bundle (a production build: `PRODUCTION_DEFINE`);
 * `size.mjs` reuses them so the size it reports is the size of what ships. Pass `define: {}` for
 * a development build (full messages).
 */
export function browserBundleOptions(overrides = {}) {
  const define = overrides.define ?? PRODUCTION_DEFINE;
  const production = define.__THROUGHLINE_DEV__ === "false";
  return {
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, "packages/client/src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    // Chrome 90-era browsers; Safari 14.0 is left out (esbuild cannot lower its for-of destructuring bug).
    target: ["chrome90", "firefox90", "safari15"],
    minify: true,
    sourcemap: true,
    legalComments: "none",
    logLevel: "silent",
    plugins: production ? [devFoldPlugin, sourcesPlugin] : [sourcesPlugin],
    define,
    // Internal properties named `_x` get short names (consistent within one bundle). Public API,
    // wire JSON fields and the share tab↔worker messages (two bundles) never start with `_`.
    // A bundle that includes Effect (whose internals are `_tag`, `_id`, …) passes `mangleProps: undefined`.
    mangleProps: MANGLED_PROPS,
    write: false,
    ...overrides,
  };
}

/**
 * terser's options for the second pass over a minified production browser bundle.
 *
 * Why a second minifier: esbuild bundles, folds `DEV` and renames `_x` properties, and is fast;
 * terser then compresses a little more and, above all, names variables by how often they occur,
 * which gzip rewards. Measured on the full client (issue #15): 10,750 → 10,212 B min+gzip, where
 * esbuild alone cannot get under 10,240. Safe transforms only: no `unsafe*`, and no
 * `pure_getters` (the client has getters with effects, `readyState` for one). One pass: a second
 * one made the gzip 9 B larger. `format: "esm"` mangles top-level names too (module scope);
 * an IIFE's global name is outside its function, so it stays.
 * @param {"esm" | "iife"} format
 */
export function terserOptions(format) {
  return { module: format === "esm", ecma: 2020, compress: { passes: 1 }, mangle: true, format: { ecma: 2020, comments: false } };
}

/** Whether esbuild `options` make a minified production bundle (the ones terser also minifies). */
const isShipped = (options) => options.minify === true && options.define?.__THROUGHLINE_DEV__ === "false";

/** Where terser's results are kept by content hash: test files build in parallel, often the same bytes. */
const TERSER_CACHE = join(ROOT, "node_modules", ".cache", "throughline-terser");
let terserVersionRead;
/** The installed terser's version (read once per process): a new terser makes new entries. */
const terserVersion = () =>
  (terserVersionRead ??= readFile(join(ROOT, "node_modules", "terser", "package.json"), "utf8").then((t) => JSON.parse(t).version));

/**
 * terser over esbuild's output, cached on disk by a hash of everything that decides the result
 * (input, input map, options, terser's version). The cache is only ever a copy of what terser
 * would return: a missing or unreadable entry is recomputed.
 */
async function terserCached(js, map, format, name) {
  // Everything but the input map's text, which is hashed with the input below.
  const sourceMap = map && { filename: name, url: `${name}.map`, includeSources: true };
  const options = { ...terserOptions(format), ...(sourceMap && { sourceMap }) };
  const key = createHash("sha256")
    .update(JSON.stringify([await terserVersion(), options]))
    .update("\0")
    .update(js)
    .update("\0")
    .update(map ?? "")
    .digest("hex");
  const file = join(TERSER_CACHE, `${key}.json`);
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    // not cached yet (or a torn copy from another build): compute it
  }
  const r = await terser(js, sourceMap ? { ...options, sourceMap: { ...sourceMap, content: map } } : options);
  const out = { js: r.code, map: typeof r.map === "string" ? r.map : undefined };
  await syncFile(file, Buffer.from(JSON.stringify(out))).catch(() => {});
  return out;
}

/**
 * Bundles one browser entry the way it ships: esbuild with `browserBundleOptions(overrides)`,
 * then, for a minified production build, terser (`terserOptions`). Builds in memory.
 * @param {object} [overrides] esbuild options over `browserBundleOptions`'s (`outfile` names the
 *   files; `sourcemap: false` for no map)
 * @returns {Promise<{ js: string, map: string | undefined }>} the bundle (ending with its
 *   `sourceMappingURL` comment when there is a map) and its source map
 */
export async function bundleForBrowser(overrides = {}) {
  const options = browserBundleOptions(overrides);
  const r = await esbuild({ ...options, write: false });
  const js = r.outputFiles.find((f) => f.path.endsWith(".js")).text;
  const map = r.outputFiles.find((f) => f.path.endsWith(".js.map"))?.text;
  if (!isShipped(options)) return { js, map };
  // terser writes its own comment for the map it returns.
  const bare = map ? js.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n") : js;
  return terserCached(bare, map, options.format ?? "esm", basename(options.outfile ?? "bundle.js"));
}

/** `bundleForBrowser` as esbuild-style output files, for `build()`'s sync loop. */
async function browserOutputs(overrides) {
  const { js, map } = await bundleForBrowser(overrides);
  const files = [{ path: overrides.outfile, contents: Buffer.from(js) }];
  if (map) files.push({ path: `${overrides.outfile}.map`, contents: Buffer.from(map) });
  return { outputFiles: files };
}

async function listTs(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if (err.code === "ENOENT") return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

async function listFiles(dir) {
  try {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
  } catch (err) {
    if (err.code === "ENOENT") return [];
    throw err;
  }
}

/** Removes directories left empty under `dir` (deepest first); a concurrent build may refill one. */
async function removeEmptyDirs(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if (err.code === "ENOENT") return;
    throw err;
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath ?? e.path, e.name));
  dirs.sort((a, b) => b.length - a.length);
  for (const d of dirs) {
    try {
      if ((await readdir(d)).length === 0) await rmdir(d);
    } catch (err) {
      if (err.code !== "ENOENT" && err.code !== "ENOTEMPTY") throw err;
    }
  }
}

/** Writes `bytes` to `path` unless it already holds exactly them; atomic (tmp + rename). */
async function syncFile(path, bytes) {
  try {
    const old = await readFile(path);
    if (Buffer.compare(old, bytes) === 0) return false;
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return true;
}

/**
 * Builds every package's `dist` and the browser bundles.
 * @param {{ quiet?: boolean, types?: boolean }} [options] `quiet` (default `false`) silences the
 *   summary line; `types` (default `false`) also emits the declarations (a few seconds more).
 * @returns {Promise<{ files: string[], written: number, removed: number, ms: number }>}
 *   `files`: every output file, relative to the repository root with `/` separators.
 */
export async function build(options = {}) {
  const started = performance.now();
  const jobs = [];
  for (const pkg of PACKAGES) {
    const src = join(ROOT, "packages", pkg, "src");
    const entryPoints = await listTs(src);
    if (entryPoints.length === 0) continue;
    jobs.push(
      esbuild({
        absWorkingDir: ROOT,
        entryPoints,
        outbase: src,
        outdir: join(ROOT, "packages", pkg, "dist"),
        bundle: false,
        format: "esm",
        platform: "node",
        target: ["node20", "es2022"],
        sourcemap: true,
        logLevel: "silent",
        write: false,
      }),
    );
    jobs.push(
      esbuild({
        absWorkingDir: ROOT,
        entryPoints,
        outbase: src,
        outdir: join(ROOT, "packages", pkg, "dist", "cjs"),
        bundle: false,
        format: "cjs",
        platform: "node",
        target: ["node20", "es2022"],
        sourcemap: true,
        logLevel: "silent",
        write: false,
      }),
    );
  }
  const browserOut = join(ROOT, BROWSER_DIR);
  jobs.push(browserOutputs({ outfile: join(ROOT, BROWSER_ESM) }));
  jobs.push(browserOutputs({ format: "iife", globalName: "Throughline", outfile: join(ROOT, BROWSER_IIFE) }));
  jobs.push(browserOutputs({ define: {}, outfile: join(ROOT, BROWSER_DEV) }));
  // The doctor page's script (served inline by `@throughline/doctor/page`); a development build:
  // the page exists to show people what went wrong, in full sentences.
  jobs.push(browserOutputs({ entryPoints: [join(ROOT, "packages/doctor/src/browser.ts")], format: "iife", define: {}, outfile: join(ROOT, DOCTOR_BROWSER) }));
  for (const [name, entry] of Object.entries(BROWSER_ENTRIES)) {
    if (name === "throughline") continue; // BROWSER_ESM above
    jobs.push(browserOutputs({ entryPoints: [join(ROOT, entry)], outfile: join(ROOT, BROWSER_DIR, `${name}.js`) }));
  }
  const results = await Promise.all(jobs);

  const outputs = new Map();
  for (const r of results) for (const f of r.outputFiles) outputs.set(f.path, f.contents);
  for (const pkg of PACKAGES) {
    outputs.set(join(ROOT, "packages", pkg, "dist", "cjs", "package.json"), Buffer.from('{ "type": "commonjs" }\n'));
  }

  let written = 0;
  for (const [path, bytes] of outputs) if (await syncFile(path, bytes)) written++;
  // Declarations after the JavaScript: each package's are emitted against the declarations of
  // the packages it imports, which must be on disk by then (PACKAGES is in dependency order).
  const declarations = new Set();
  if (options.types) {
    for (const pkg of PACKAGES) {
      for (const [path, bytes] of emitTypes(ROOT, pkg)) {
        outputs.set(path, bytes);
        declarations.add(path);
        if (await syncFile(path, bytes)) written++;
      }
    }
  }

  // Delete what a clean build would not contain (renamed or deleted sources, old bundles).
  let removed = 0;
  const dists = PACKAGES.map((pkg) => join(ROOT, "packages", pkg, "dist"));
  for (const dist of dists) {
    for (const file of await listFiles(dist)) {
      if (outputs.has(file) || file.endsWith(".tmp")) continue;
      // A build without `types` keeps the declarations a typed build wrote.
      if (!options.types && /\.d\.ts(\.map)?$/.test(file)) continue;
      await rm(file, { force: true });
      removed++;
    }
    await removeEmptyDirs(dist);
  }

  const files = [...outputs.keys()].map((p) => relative(ROOT, p).split(sep).join("/")).sort();
  const ms = Math.round(performance.now() - started);
  if (!options.quiet) {
    console.log(`built ${files.length} files (${written} changed, ${removed} removed) in ${ms} ms; browser bundles in ${relative(ROOT, browserOut)}/`);
  }
  return { files, written, removed, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  build({ types: true }).catch((err) => {
    // esbuild's error message already lists every error with file:line.
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
