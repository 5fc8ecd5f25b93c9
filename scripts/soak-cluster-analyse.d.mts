/** Types of `soak-cluster-analyse.mjs` for TypeScript callers (its test). */
export type SoakEvent = { readonly kind: "msg"; readonly topic: string; readonly n: number; readonly id: string } | { readonly kind: "gap"; readonly topic: string; readonly reason: string };
export interface SoakGap {
  readonly topic: string;
  readonly reason: string;
  /** Last `n` received before the gap (-1: none). */
  readonly afterN: number;
  /** First `n` received after it (null: none). */
  readonly nextN: number | null;
  /** Confirmed messages it skipped. */
  readonly skipped: number;
  /** Whether the history truly ended there (see the module comment). */
  readonly exact: boolean;
}
export interface SoakClientVerdict {
  readonly delivered: number;
  readonly unique: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly unconfirmedDelivered: number;
  readonly gapEvents: number;
  readonly gapCovered: number;
  readonly gaps: readonly SoakGap[];
  readonly lostSamples: ReadonlyArray<{ readonly topic: string; readonly from: number; readonly to: number; readonly count: number }>;
}
export declare function analyseClient(events: readonly SoakEvent[], confirmed: ReadonlyMap<string, ReadonlyMap<number, string>>, attempts: ReadonlyMap<string, number>): SoakClientVerdict;
export declare function percentile(sorted: readonly number[], p: number): number | undefined;
