/**
 * Development or production messages. Every error keeps its stable `code` either way; only the
 * prose differs. The client's shipped browser bundles (`packages/client/dist/browser`, what
 * `npm run size` measures) are built with esbuild `define: { __THROUGHLINE_DEV__: "false" }`, so
 * each `DEV ? "long message" : "key values"` folds to its short arm and the long text is not
 * shipped. Everywhere else (Node, the npm `dist`, tests) the global is undefined, so `DEV` is
 * `true` and messages are the full sentences. An app bundling the npm package can set the same
 * define for production messages.
 */

// Set by a bundler's `define` only; never assigned at run time.
declare const __THROUGHLINE_DEV__: boolean | undefined;

/** `false` only in a bundle built with `__THROUGHLINE_DEV__` defined as `false`. @default true */
export const DEV: boolean = typeof __THROUGHLINE_DEV__ === "undefined" || __THROUGHLINE_DEV__ !== false;
