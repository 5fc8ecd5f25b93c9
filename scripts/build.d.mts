/** Types of `build.mjs` for the TypeScript tests that import it. */
import type { BuildOptions } from "esbuild";

export declare const ROOT: string;
/** Package directories under `packages/`, dependencies first (from `packages.mjs`). */
export declare const PACKAGES: readonly string[];
export declare const BROWSER_DIR: string;
export declare const BROWSER_ESM: string;
export declare const BROWSER_IIFE: string;
/** The core ESM bundle as a development build (full error messages). */
export declare const BROWSER_DEV: string;
/** esbuild `define` of the production browser bundles (`browserBundleOptions` applies it). */
export declare const PRODUCTION_DEFINE: Readonly<Record<string, string>>;
/** esbuild `mangleProps` of the browser bundles: internal properties spelled `_x`. */
export declare const MANGLED_PROPS: RegExp;
/** The client's browser entries: bundle name → source path relative to the repository root. */
export declare const BROWSER_ENTRIES: Readonly<{ throughline: string; eventsource: string; share: string; "share-worker": string }>;

export interface BuildResult {
  /** Every output file, relative to the repository root, `/`-separated, sorted. */
  readonly files: string[];
  /** Files whose bytes changed (written atomically). */
  readonly written: number;
  /** Stale files deleted from the `dist` folders. */
  readonly removed: number;
  readonly ms: number;
}

export interface BuildCallOptions {
  /** Silences the summary line. @default false */
  readonly quiet?: boolean;
  /** Also emits the declarations (`dist/**\/*.d.ts`, copied to `dist/cjs`). @default false */
  readonly types?: boolean;
}

export declare function browserBundleOptions(overrides?: BuildOptions): BuildOptions & { write: false };
export declare function build(options?: BuildCallOptions): Promise<BuildResult>;
/** terser's options for the second minifier pass over a production browser bundle. */
export declare function terserOptions(format: "esm" | "iife"): Record<string, unknown>;
/**
 * One browser entry built the way it ships: esbuild with `browserBundleOptions(overrides)`, then
 * terser for a minified production build. `js` ends with its `sourceMappingURL` comment when
 * there is a map.
 */
export declare function bundleForBrowser(overrides?: BuildOptions): Promise<{ js: string; map: string | undefined }>;
