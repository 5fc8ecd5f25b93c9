/**
 * Every package's `exports` map, its other manifest fields and the build agree (issue #11): the
 * manifest is in the one shape `scripts/packages.mjs` derives from the entry names, a typed build
 * produces every file an entry names (ESM, CommonJS, declarations), each package imports only
 * what it declares, and each entry loads in plain Node both ways with the same names.
 * A new package or entry point fits in by declaring it; this test says what is missing.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinModules } from "node:module";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { BROWSER_ESM, BROWSER_IIFE, PACKAGES, ROOT, build, type BuildResult } from "../../../scripts/build.mjs";
import { entries, normalize, readManifest } from "../../../scripts/packages.mjs";
import { sourceImports } from "./helpers/imports.js";

const run = promisify(execFile);

let result: BuildResult;

beforeAll(async () => {
  result = await build({ quiet: true, types: true });
}, 180_000);

describe("package manifests", () => {
  const all = entries();

  it("finds every package and at least its main entry", () => {
    expect(PACKAGES.length).toBeGreaterThanOrEqual(4);
    for (const dir of PACKAGES) expect(all.some((e) => e.dir === dir && e.subpath === "."), dir).toBe(true);
  });

  for (const dir of PACKAGES) {
    it(`keeps packages/${dir}/package.json in the derived shape (node scripts/packages.mjs --write)`, () => {
      const m = readManifest(dir);
      expect(m).toEqual(normalize(m));
      expect(m.license).toBe("MIT");
      expect(m.type).toBe("module");
      expect(m.sideEffects).toBe(false);
      // One supported range, stated where npm reads it for each package (and for the repository).
      expect(m.engines).toEqual(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines);
    });

    it(`ships a README and the MIT LICENSE in packages/${dir}`, () => {
      expect(readFileSync(join(ROOT, "packages", dir, "README.md"), "utf8")).toContain(readManifest(dir).name);
      expect(readFileSync(join(ROOT, "packages", dir, "LICENSE"), "utf8")).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));
    });

    it(`declares every package packages/${dir} imports, as a dependency or a peer`, () => {
      const m = readManifest(dir);
      const declared = new Set([m.name, ...Object.keys({ ...m.dependencies, ...m.peerDependencies })]);
      const builtins = new Set(builtinModules);
      const missing = [...sourceImports(join(ROOT, "packages", dir, "src"))].filter(
        (p) => !declared.has(p) && !p.startsWith("node:") && !builtins.has(p),
      );
      expect(missing).toEqual([]);
      // A peer only a few entries need (test runners, a browser driver) must not be forced on everyone.
      for (const peer of Object.keys(m.peerDependencies ?? {})) {
        if (peer.startsWith("@throughline/")) continue;
        expect(m.peerDependenciesMeta?.[peer]?.optional, `${peer} optional`).toBe(true);
      }
    });
  }

  it("maps every entry in the repository's tsconfig paths (typecheck sees the same surface)", () => {
    const paths = (JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")) as { compilerOptions: { paths: Record<string, string[]> } })
      .compilerOptions.paths;
    for (const e of all) expect(paths[e.specifier], e.specifier).toEqual([`./packages/${e.dir}/${e.source}`]);
  });
});

describe("the build", () => {
  const all = entries();

  for (const e of all) {
    it(`builds every file ${e.specifier} names from ${e.source}`, () => {
      expect(existsSync(join(ROOT, "packages", e.dir, e.source)), e.source).toBe(true);
      const files = [e.esm, e.types, e.cjs, e.cjsTypes].filter((f): f is string => f !== null);
      for (const f of files) expect(result.files, f).toContain(`packages/${e.dir}/${f}`);
    });
  }

  it("marks every dist/cjs folder CommonJS", () => {
    for (const dir of PACKAGES) {
      expect(JSON.parse(readFileSync(join(ROOT, "packages", dir, "dist/cjs/package.json"), "utf8"))).toEqual({ type: "commonjs" });
    }
  });

  it("produces both browser bundles of the client, with sourcemaps", () => {
    for (const f of [BROWSER_ESM, BROWSER_IIFE]) {
      expect(result.files).toContain(f);
      expect(result.files).toContain(`${f}.map`);
    }
  });

  it("loads every entry in plain Node from dist, by import and by require, with the same names", async () => {
    // Vitest's aliases point at src; a child process sees only what npm users would.
    const specs = all.map((e) => ({ s: e.specifier, cjs: !e.esmOnly }));
    const script = `
      const { createRequire } = await import("node:module");
      const require = createRequire(${JSON.stringify(join(ROOT, "package.json"))});
      const out = {};
      for (const { s, cjs } of ${JSON.stringify(specs)}) {
        const esm = Object.keys(await import(s)).filter((k) => k !== "default").sort();
        out[s] = { esm, cjs: cjs ? Object.keys(require(s)).filter((k) => k !== "default").sort() : esm };
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, timeout: 30_000 });
    const loaded = JSON.parse(stdout) as Record<string, { esm: string[]; cjs: string[] }>;
    for (const e of all) {
      expect(loaded[e.specifier]?.esm.length, `${e.specifier} exports something`).toBeGreaterThan(0);
      expect(loaded[e.specifier]?.cjs, `${e.specifier}: require and import agree`).toEqual(loaded[e.specifier]?.esm);
    }
  });
});
