/**
 * The tsconfigs of the consumer matrix: what users commonly have (the TypeScript handbook's
 * module guide, Vite's browser template, @tsconfig/strictest), each with `skipLibCheck: false`
 * added by the test. `run` names the extension of the compiled program to execute, when the
 * config emits JavaScript for Node.
 */
export interface ConsumerConfig {
  readonly name: string;
  readonly description: string;
  /** The project is CommonJS: ESM-only entries are left out (they cannot be `require`d). */
  readonly commonjs?: boolean;
  /** A browser project without Node's types: only entries whose declarations need none. */
  readonly browser?: boolean;
  /** The `lib` has the DOM: entries whose declarations import a DOM-typed peer are checked too. */
  readonly dom?: boolean;
  readonly run?: "js";
  readonly compilerOptions: Readonly<Record<string, unknown>>;
}

/**
 * Packages whose own declarations need the DOM lib: an entry importing one (or a subpath of
 * one) is checked only under configs with the DOM, as that package itself demands.
 * - playwright-core: its `ElementHandle` types name `HTMLElement`.
 * - effect: `effect/persistence/KeyValueStore`, reached from the modules the Effect entries import,
 *   names the DOM's `Storage` (its Web Storage layer), so with `skipLibCheck: false` Effect 4
 *   itself does not type-check without the DOM lib.
 */
export const DOM_TYPED_PEERS: readonly string[] = ["playwright-core", "effect"];

/**
 * Entries of ours whose API is made of DOM types, checked only under configs with the DOM (and
 * so is any entry whose declarations import one):
 * - `@throughline/client/eventsource`: the drop-in `EventSource` dispatches the DOM's
 *   `MessageEvent<T>` (Node's global `MessageEvent` is not generic).
 * - `@throughline/client/share`: one connection shared by tabs over `BroadcastChannel` and a
 *   `SharedWorker`, which Node's types lack (`SharedWorker`) or type differently (`BroadcastChannel`).
 */
export const DOM_TYPED_ENTRIES: readonly string[] = ["@throughline/client/eventsource", "@throughline/client/share"];

const nodeBase = { target: "es2022", lib: ["es2023"], types: ["node"], strict: true, esModuleInterop: true };

/** @tsconfig/strictest's flags on nodenext. */
const strictest = {
  ...nodeBase,
  module: "nodenext",
  moduleResolution: "nodenext",
  exactOptionalPropertyTypes: true,
  noPropertyAccessFromIndexSignature: true,
  erasableSyntaxOnly: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  allowUnusedLabels: false,
  allowUnreachableCode: false,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  checkJs: true,
};

export const CONSUMER_CONFIGS: readonly ConsumerConfig[] = [
  {
    name: "nodenext",
    description: "ESM on Node, module/moduleResolution nodenext, no DOM lib",
    run: "js",
    compilerOptions: { ...nodeBase, module: "nodenext", moduleResolution: "nodenext" },
  },
  {
    name: "node16-cjs",
    description: "CommonJS on Node, module/moduleResolution node16, no DOM lib",
    commonjs: true,
    run: "js",
    compilerOptions: { ...nodeBase, module: "node16", moduleResolution: "node16" },
  },
  {
    name: "node10-cjs",
    description: "CommonJS, module commonjs, moduleResolution node10 (ignores exports)",
    commonjs: true,
    run: "js",
    compilerOptions: { ...nodeBase, module: "commonjs", moduleResolution: "node10" },
  },
  {
    name: "bundler",
    description: "Vite-style browser app: moduleResolution bundler, DOM lib, no Node types",
    browser: true,
    dom: true,
    compilerOptions: {
      target: "es2022",
      lib: ["es2022", "dom", "dom.iterable"],
      types: [],
      module: "esnext",
      moduleResolution: "bundler",
      moduleDetection: "force",
      isolatedModules: true,
      verbatimModuleSyntax: true,
      noEmit: true,
      strict: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      noFallthroughCasesInSwitch: true,
      noUncheckedSideEffectImports: true,
    },
  },
  {
    name: "node-dom",
    description: "ESM on Node with the DOM lib too (test and full-stack projects), nodenext",
    dom: true,
    compilerOptions: { ...nodeBase, lib: ["es2023", "dom", "dom.iterable"], module: "nodenext", moduleResolution: "nodenext", noEmit: true },
  },
  {
    name: "strictest",
    description: "nodenext with every strictness flag: exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature, erasableSyntaxOnly, …",
    run: "js",
    compilerOptions: strictest,
  },
  {
    name: "strictest-dom",
    description: "the strictest flags with the DOM lib too: Effect and the DOM-typed entries under every strictness flag",
    dom: true,
    compilerOptions: { ...strictest, lib: ["es2023", "dom", "dom.iterable"], noEmit: true },
  },
];
