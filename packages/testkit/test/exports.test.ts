/**
 * Every package's `exports` map and the build agree: each `import` target is a file `build()`
 * produces, each `types` target is a source file, the two name the same module, and each
 * entry loads in plain Node (no vitest aliases) from `dist`.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { BROWSER_ESM, BROWSER_IIFE, PACKAGES, ROOT, build, type BuildResult } from "../../../scripts/build.mjs";

const run = promisify(execFile);

interface Entry {
  pkg: string;
  subpath: string;
  specifier: string;
  types: string;
  import: string;
}

function entries(): Entry[] {
  const out: Entry[] = [];
  for (const pkg of PACKAGES) {
    const json = JSON.parse(readFileSync(join(ROOT, "packages", pkg, "package.json"), "utf8")) as {
      name: string;
      exports: Record<string, { types?: string; import?: string }>;
    };
    for (const [subpath, target] of Object.entries(json.exports)) {
      out.push({
        pkg,
        subpath,
        specifier: subpath === "." ? json.name : `${json.name}/${subpath.slice(2)}`,
        types: target.types ?? "",
        import: target.import ?? "",
      });
    }
  }
  return out;
}

let result: BuildResult;

beforeAll(async () => {
  result = await build({ quiet: true });
});

describe("package exports and the build", () => {
  const all = entries();

  it("finds an exports entry with types and import for every package", () => {
    expect(new Set(all.map((e) => e.pkg))).toEqual(new Set(PACKAGES));
    for (const e of all) {
      expect(e.types, `${e.specifier} types`).toMatch(/^\.\/src\/.+\.ts$/);
      expect(e.import, `${e.specifier} import`).toMatch(/^\.\/dist\/.+\.js$/);
    }
  });

  for (const e of all) {
    it(`builds ${e.specifier} from the source its types entry names`, () => {
      expect(existsSync(join(ROOT, "packages", e.pkg, e.types)), `${e.types} exists`).toBe(true);
      expect(result.files).toContain(`packages/${e.pkg}/${e.import.slice(2)}`);
      // dist/x.js must be the build of src/x.ts, or types and runtime describe different modules.
      expect(e.import.replace(/^\.\/dist\//, "").replace(/\.js$/, "")).toBe(e.types.replace(/^\.\/src\//, "").replace(/\.ts$/, ""));
    });
  }

  it("produces both browser bundles of the client, with sourcemaps", () => {
    for (const f of [BROWSER_ESM, BROWSER_IIFE]) {
      expect(result.files).toContain(f);
      expect(result.files).toContain(`${f}.map`);
    }
  });

  it("loads every runtime entry in plain Node from dist", async () => {
    // Vitest's aliases point at src; a child process sees only what npm users would.
    const specifiers = all.map((e) => e.specifier);
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); if (Object.keys(m).length === 0) throw new Error(s + " exports nothing"); } console.log("ok");`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, timeout: 20_000 });
    expect(stdout.trim()).toBe("ok");
  });
});
