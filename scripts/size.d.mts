/** Types of `size.mjs` for TypeScript callers (tests, benchmarks). */
export interface BundleSize {
  /** Bundled, not minified. */
  readonly raw: number;
  readonly min: number;
  /** Minified, then gzip level 9. */
  readonly gzip: number;
}
export declare const KB: number;
/** `entry`: a source path from `BROWSER_ENTRIES` (default: the core `connect()` entry). */
export declare function measureBundleSize(entry?: string, external?: readonly string[]): Promise<BundleSize>;
/** Entry of the Effect client's browser bundle (relative to the repository root). */
export declare const EFFECT_CLIENT_ENTRY: string;
export declare function formatKb(bytes: number): string;
export declare function formatSizeLine(size: BundleSize, label?: string): string;
/** Transport combinations of `@throughline/client/core`: label → export names of the values. */
export declare const TRANSPORT_COMBINATIONS: Readonly<Record<string, readonly ("sse" | "websocket" | "longPoll")[]>>;
/** The entry source of an app using only `values` of `@throughline/client/core`. */
export declare function combinationSource(values: readonly string[]): string;
/** Measures the bundle of an app using only `values` of `@throughline/client/core`. */
export declare function measureCombinationSize(values: readonly string[]): Promise<BundleSize>;
