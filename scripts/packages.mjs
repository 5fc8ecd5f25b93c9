/**
 * The workspace's publishable packages and their entry points, read from each package's
 * `exports` map. The build, the pack test and the consumer matrix all start here, so a new
 * package (`packages/<dir>` with a non-private package.json) or a new entry point (a key in
 * `exports`) is built, packed and type-checked by declaring it; nothing else lists them.
 *
 * One shape per entry (what `normalize()` writes and the sync test demands), types first so
 * TypeScript picks them before the JavaScript:
 *
 *   "./x": {
 *     "import":  { "types": "./dist/x.d.ts",     "default": "./dist/x.js" },
 *     "require": { "types": "./dist/cjs/x.d.ts", "default": "./dist/cjs/x.js" }
 *   }
 *
 * `dist/cjs` holds a package.json `{"type":"commonjs"}`, so its `.js` and `.d.ts` files are
 * CommonJS to Node and to TypeScript (`module: node16`/`nodenext` see the right format). An entry
 * without `require` is ESM-only (the testkit's conformance suite: vitest cannot be `require`d).
 * `main`, `types` and `typesVersions` repeat the map for `moduleResolution: node10`, which ignores
 * `exports`.
 *
 * `node scripts/packages.mjs --write` rewrites those fields from the entry names (any string in
 * an entry names its source: `"./x": "./src/x.ts"` is enough to start an entry).
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Repository root (this file lives in `<root>/scripts`). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Reads `packages/<dir>/package.json`. */
export function readManifest(dir) {
  return JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8"));
}

/**
 * Directory names of the publishable packages (not `private`), dependencies before dependents,
 * so a package's declarations are emitted after those of the packages it imports.
 */
export function packageDirs() {
  const dirs = readdirSync(join(ROOT, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, "packages", d.name, "package.json")))
    .map((d) => d.name)
    .filter((d) => readManifest(d).private !== true)
    .sort();
  const byName = new Map(dirs.map((d) => [readManifest(d).name, d]));
  const order = [];
  const seen = new Set();
  const visit = (dir, path) => {
    if (seen.has(dir)) return;
    if (path.includes(dir)) throw new Error(`packages: dependency cycle ${[...path, dir].join(" → ")}`);
    const m = readManifest(dir);
    for (const dep of Object.keys({ ...m.dependencies, ...m.peerDependencies })) {
      const d = byName.get(dep);
      if (d) visit(d, [...path, dir]);
    }
    seen.add(dir);
    order.push(dir);
  };
  for (const d of dirs) visit(d, []);
  return order;
}

/** `"./dist/cjs/x/y.d.ts"`, `"./src/x/y.ts"`, … → `"x/y"`: the module an entry is built from. */
export function entryModule(value) {
  const first = typeof value === "string" ? value : findString(value);
  if (first === undefined) throw new Error(`packages: an exports entry names no file: ${JSON.stringify(value)}`);
  return first
    .replace(/^\.\//, "")
    .replace(/^(src|dist\/cjs|dist)\//, "")
    .replace(/(\.d\.ts|\.d\.cts|\.d\.mts|\.ts|\.js|\.cjs|\.mjs)$/, "");
}

function findString(v) {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    for (const x of Object.values(v)) {
      const s = findString(x);
      if (s !== undefined) return s;
    }
  }
  return undefined;
}

/** The canonical exports entry of module `m`; `esmOnly` leaves out `require`. */
export function canonicalEntry(m, esmOnly = false) {
  const esm = { types: `./dist/${m}.d.ts`, default: `./dist/${m}.js` };
  return esmOnly ? { import: esm } : { import: esm, require: { types: `./dist/cjs/${m}.d.ts`, default: `./dist/cjs/${m}.js` } };
}

const isEsmOnly = (value) => value !== null && typeof value === "object" && "import" in value && !("require" in value);

/**
 * Every entry point of every package: `{ dir, name, subpath, specifier, module, source, esm, cjs,
 * types, cjsTypes }` (paths relative to the package directory; `cjs`/`cjsTypes` are `null` for an
 * ESM-only entry). `./package.json` is not an entry point.
 */
export function entries(dirs = packageDirs()) {
  const out = [];
  for (const dir of dirs) {
    const m = readManifest(dir);
    for (const [subpath, value] of Object.entries(m.exports ?? {})) {
      if (subpath === "./package.json") continue;
      const mod = entryModule(value);
      const esmOnly = isEsmOnly(value);
      out.push({
        dir,
        name: m.name,
        subpath,
        specifier: subpath === "." ? m.name : `${m.name}/${subpath.slice(2)}`,
        module: mod,
        esmOnly,
        source: `src/${mod}.ts`,
        esm: `dist/${mod}.js`,
        types: `dist/${mod}.d.ts`,
        cjs: esmOnly ? null : `dist/cjs/${mod}.js`,
        cjsTypes: esmOnly ? null : `dist/cjs/${mod}.d.ts`,
      });
    }
  }
  return out;
}

/**
 * The manifest with `exports`, `main`, `module`, `types`, `typesVersions` and `files` derived
 * from the entries (other fields untouched, key order kept).
 */
export function normalize(manifest) {
  const exportsMap = {};
  const tv = {};
  let root;
  for (const [subpath, value] of Object.entries(manifest.exports ?? {})) {
    if (subpath === "./package.json") continue;
    const mod = entryModule(value);
    const entry = canonicalEntry(mod, isEsmOnly(value));
    exportsMap[subpath] = entry;
    const types = (entry.require ?? entry.import).types;
    if (subpath === ".") root = entry;
    else tv[subpath.slice(2)] = [types];
  }
  exportsMap["./package.json"] = "./package.json";
  const out = { ...manifest };
  if (root) {
    out.main = (root.require ?? root.import).default;
    out.module = root.import.default;
    out.types = (root.require ?? root.import).types;
  }
  out.exports = exportsMap;
  if (Object.keys(tv).length > 0) out.typesVersions = { "*": tv };
  else delete out.typesVersions;
  // npm always packs package.json, README and LICENSE; `src` backs the declaration maps.
  out.files = ["dist", "src"];
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const write = process.argv.includes("--write");
  let stale = 0;
  for (const dir of packageDirs()) {
    const path = join(ROOT, "packages", dir, "package.json");
    const before = readFileSync(path, "utf8");
    const after = `${JSON.stringify(normalize(JSON.parse(before)), null, 2)}\n`;
    if (before === after) continue;
    stale++;
    if (write) writeFileSync(path, after);
    console.log(`${write ? "wrote" : "out of date:"} packages/${dir}/package.json`);
  }
  if (stale > 0 && !write) process.exitCode = 1;
}
