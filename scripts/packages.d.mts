/** Types of `packages.mjs` for the TypeScript tests that import it. */
export declare const ROOT: string;

/** One entry point of one package; paths relative to the package directory. */
export interface PackageEntry {
  readonly dir: string;
  readonly name: string;
  /** The `exports` key: `"."`, `"./node"`, … */
  readonly subpath: string;
  /** What users import: `@throughline/client/node`. */
  readonly specifier: string;
  /** Module path under `src`/`dist` without extension. */
  readonly module: string;
  /** No `require` condition (the module needs an ESM-only dependency). */
  readonly esmOnly: boolean;
  readonly source: string;
  readonly esm: string;
  readonly types: string;
  readonly cjs: string | null;
  readonly cjsTypes: string | null;
}

export interface Manifest {
  readonly name: string;
  readonly [field: string]: any;
}

export declare function readManifest(dir: string): Manifest;
export declare function packageDirs(): string[];
export declare function entryModule(value: unknown): string;
export declare function canonicalEntry(module: string, esmOnly?: boolean): unknown;
export declare function entries(dirs?: readonly string[]): PackageEntry[];
export declare function normalize(manifest: Manifest): Manifest;
