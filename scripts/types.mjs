/**
 * Declaration emit for one package, with the TypeScript compiler API (esbuild strips types and
 * cannot write `.d.ts`). Users' compilers then read these declarations instead of the library's
 * sources, so the library's code is never type-checked under the user's settings (issue #11:
 * `skipLibCheck` cannot skip `.ts` sources).
 *
 * Other workspace packages resolve through `node_modules` to their emitted declarations (not to
 * their sources, as the repository's `tsconfig.json` paths do), so each package's declarations
 * refer to `@throughline/x` by name, as an installed package would. That is why `build.mjs`
 * emits in dependency order.
 */
import { join, relative } from "node:path";
import ts from "typescript";

/** Formats compiler diagnostics the way `tsc` prints them (file:line:col - message). */
function format(diagnostics, root) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  });
}

/**
 * Emits `packages/<pkg>/dist/**\/*.d.ts` (+ `.d.ts.map` pointing at `src`) and a copy of each
 * declaration under `dist/cjs/` (no map: same text, other directory) for the `require` entries.
 * Nothing is written: the caller syncs the returned `[absolute path, bytes]` pairs to disk.
 * @throws Error listing every compiler error.
 */
export function emitTypes(root, pkg) {
  const dir = join(root, "packages", pkg);
  const src = join(dir, "src");
  const outDir = join(dir, "dist");
  const base = ts.readConfigFile(join(root, "tsconfig.base.json"), ts.sys.readFile);
  if (base.error) throw new Error(format([base.error], root));
  const parsed = ts.parseJsonConfigFileContent(
    {
      ...base.config,
      compilerOptions: {
        ...base.config.compilerOptions,
        rootDir: src,
        outDir,
        declaration: true,
        declarationMap: true,
        emitDeclarationOnly: true,
        sourceMap: false,
        noEmit: false,
      },
      include: [join(src, "**/*.ts")],
    },
    ts.sys,
    dir,
  );
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const out = new Map();
  const result = program.emit(undefined, (file, text) => {
    const path = join(file);
    out.set(path, Buffer.from(text));
    if (path.endsWith(".d.ts")) {
      const copy = join(outDir, "cjs", relative(outDir, path));
      out.set(copy, Buffer.from(text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n")));
    }
  });
  const errors = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].filter(
    (d) => d.category === ts.DiagnosticCategory.Error,
  );
  if (errors.length > 0) throw new Error(`declarations of packages/${pkg}:\n${format(errors, root)}`);
  return out;
}
