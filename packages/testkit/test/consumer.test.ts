/**
 * The consumer matrix (issue #11): every package is packed with `npm pack`, installed from the
 * tarballs into a fresh project outside the repository, and type-checked with `skipLibCheck:
 * false` under the tsconfigs users commonly have; where the config emits, the compiled program
 * (fixtures/consumer/usage.ts: a server and a client over each transport) runs in this Node.
 * Entries come from the `exports` maps, so new packages and entry points join by declaring them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGES, ROOT, build } from "../../../scripts/build.mjs";
import { entries, readManifest, type PackageEntry } from "../../../scripts/packages.mjs";
import { CONSUMER_CONFIGS, DOM_TYPED_ENTRIES, DOM_TYPED_PEERS, type ConsumerConfig } from "./helpers/consumer-configs.js";

const exec = promisify(execFile);
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

let dir = "";
const packed = new Map<string, string[]>();

/** Version of a package installed in the repository, so the consumer gets the same (from npm's cache). */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * Whether no declaration the entry reaches (its own, those it imports relatively, and those of
 * the @throughline entries it imports, transitively) imports a specifier matching `forbidden`.
 */
function declarationsAvoid(e: PackageEntry, forbidden: RegExp): boolean {
  const bySpecifier = new Map(entries().map((x) => [x.specifier, join(ROOT, "packages", x.dir, x.types)]));
  const seen = new Set<string>();
  const todo = [join(ROOT, "packages", e.dir, e.types)];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from |import\()"([^"]+)"/g)) {
      if (spec === undefined) continue;
      if (forbidden.test(`from "${spec}"`)) return false;
      if (spec.startsWith(".")) todo.push(join(dirname(file), spec.replace(/\.js$/, ".d.ts")));
      else if (bySpecifier.has(spec)) todo.push(bySpecifier.get(spec) as string);
    }
  }
  return true;
}

// ioredis's declarations reference Node's types (streams, sockets, Buffer): a server-side package.
const NODE_TYPED = /^from "(node:[a-z/]+|ws|vitest|playwright-core|ioredis)"$/;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const DOM_TYPED = new RegExp(
  `^from "((${DOM_TYPED_PEERS.map(escape).join("|")})(/[^"]*)?|${DOM_TYPED_ENTRIES.map(escape).join("|")})"$`,
);

function entriesFor(config: ConsumerConfig): PackageEntry[] {
  return entries().filter(
    (e) =>
      (!config.commonjs || !e.esmOnly) &&
      (!config.browser || declarationsAvoid(e, NODE_TYPED)) &&
      (config.dom === true || (!DOM_TYPED_ENTRIES.includes(e.specifier) && declarationsAvoid(e, DOM_TYPED))),
  );
}

/** One file importing every entry, so `skipLibCheck: false` checks all of their declarations. */
function entriesSource(list: readonly PackageEntry[]): string {
  const lines = list.map((e, i) => `import * as e${i} from ${JSON.stringify(e.specifier)};`);
  lines.push(`export const exportCounts: number[] = [${list.map((_, i) => `Object.keys(e${i}).length`).join(", ")}];`);
  return `${lines.join("\n")}\n`;
}

async function tsc(project: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await exec(process.execPath, [TSC, "-p", project, "--pretty", "false"], { timeout: 240_000, maxBuffer: 16 << 20 });
    return { ok: true, output: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

beforeAll(async () => {
  await build({ quiet: true, types: true });
  dir = mkdtempSync(join(tmpdir(), "throughline-consumer-"));
  const tarballs = join(dir, "tarballs");
  mkdirSync(tarballs);
  const deps: Record<string, string> = {};
  for (const pkg of PACKAGES) {
    const { stdout } = await exec(NPM, ["pack", "--json", "--pack-destination", tarballs, "--loglevel=error"], {
      cwd: join(ROOT, "packages", pkg),
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    const [info] = JSON.parse(stdout) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack of packages/${pkg} reported nothing`);
    packed.set(pkg, info.files.map((f) => f.path));
    deps[info.name] = `file:${join(tarballs, info.filename.replace(/^@/, "").replace(/\//, "-"))}`;
  }
  // What a user installs next to the packages: the compiler, Node's types, and the optional peers
  // the entries need (ws for the Node clients, prom-client for the server's metrics, the
  // testkit's runner and browser driver): every peer some package declares.
  const peers = PACKAGES.flatMap((pkg) => Object.keys(readManifest(pkg).peerDependencies ?? {})).filter((p) => !p.startsWith("@throughline/"));
  for (const name of new Set(["typescript", "@types/node", ...peers])) deps[name] = installedVersion(name);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, dependencies: deps }, null, 2));
  await exec(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], {
    cwd: dir,
    timeout: 300_000,
    maxBuffer: 16 << 20,
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
  });
  for (const c of CONSUMER_CONFIGS) {
    const at = join(dir, c.name);
    mkdirSync(at);
    writeFileSync(join(at, "package.json"), JSON.stringify({ private: true, type: c.commonjs ? "commonjs" : "module" }));
    const files = ["entries.ts", ...(c.run !== undefined ? ["usage.ts"] : [])];
    writeFileSync(
      join(at, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { ...c.compilerOptions, skipLibCheck: false, rootDir: ".", outDir: "out", ...(c.run === undefined ? { noEmit: true } : {}) }, files }, null, 2),
    );
    writeFileSync(join(at, "entries.ts"), entriesSource(entriesFor(c)));
    if (c.run !== undefined) copyFileSync(join(ROOT, "packages/testkit/test/fixtures/consumer/usage.ts"), join(at, "usage.ts"));
  }
}, 600_000);

afterAll(() => {
  // THROUGHLINE_KEEP_CONSUMER=1 keeps the project to rerun `tsc -p <dir>/<config>` by hand.
  if (process.env.THROUGHLINE_KEEP_CONSUMER === "1") console.log(`consumer project kept in ${dir}`);
  else if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("packed tarballs", () => {
  it("contain package.json, README.md, LICENSE and every file each entry names, and no tests", () => {
    for (const pkg of PACKAGES) {
      const files = packed.get(pkg) ?? [];
      for (const f of ["package.json", "README.md", "LICENSE"]) expect(files, `${pkg}: ${f}`).toContain(f);
      for (const e of entries([pkg])) {
        for (const f of [e.esm, e.types, e.cjs, e.cjsTypes, e.source]) if (f) expect(files, `${e.specifier}: ${f}`).toContain(f);
      }
      expect(files.filter((f) => f.startsWith("test/")), pkg).toEqual([]);
    }
  });
});

describe("installed bins", () => {
  const bins = PACKAGES.flatMap((pkg) => Object.keys((readManifest(pkg) as { bin?: Record<string, string> }).bin ?? {}));

  for (const name of bins) {
    it(`runs node_modules/.bin/${name} --help from the installed tarball`, async () => {
      // The bin runs the package's built CLI: it fails here if the tarball lacks either.
      const { stdout } = await exec(join(dir, "node_modules", ".bin", name), ["--help"], { cwd: dir, timeout: 60_000 });
      expect(stdout).toContain(`usage: ${name}`);
    }, 120_000);
  }
});

describe("a fresh project type-checks and runs the packed packages", () => {
  const hasWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";

  for (const c of CONSUMER_CONFIGS) {
    it(`type-checks every entry under ${c.name} (${c.description}) with skipLibCheck: false`, async () => {
      expect(entriesFor(c).length).toBeGreaterThan(0);
      const r = await tsc(join(dir, c.name));
      expect(r.output).toBe("");
      expect(r.ok).toBe(true);
    }, 300_000);

    if (c.run !== undefined) {
      it(`runs the compiled program of ${c.name}: every transport delivers`, async () => {
        const { stdout } = await exec(process.execPath, [join(dir, c.name, "out", `usage.${c.run}`)], { cwd: join(dir, c.name), timeout: 60_000 });
        const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, string>;
        expect(result).toEqual({
          sse: "ok",
          websocket: "ok",
          "long-poll": "ok",
          // Node ≥ 22 has a global WebSocket: the browser entry works there without "/node".
          "plain-websocket": hasWebSocket ? "ok" : "refused TL_INVALID_OPTION",
        });
      }, 120_000);
    }
  }
});
