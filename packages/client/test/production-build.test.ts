/**
 * The production switch (`__THROUGHLINE_DEV__`, wire's `dev.ts`): the shipped browser bundles
 * carry each error's code and key values, not the sentences; a development build (and Node, where
 * every other test runs) carries the sentences. Both bundles are built with the shipped options
 * (`bundleForBrowser`: esbuild, then terser) and run here, so the codes are checked on the code that ships.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_ENTRIES, ROOT, browserBundleOptions, bundleForBrowser } from "../../../scripts/build.mjs";
import type * as Client from "../src/index.js";

type ClientModule = typeof Client;

let dir: string;
const bundles: Record<"production" | "development", { text: string; mod: ClientModule }> = {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tl-prod-build-"));
  for (const [kind, define] of [["production", undefined], ["development", {}]] as const) {
    const { js: text } = await bundleForBrowser({ entryPoints: [join(ROOT, BROWSER_ENTRIES.throughline)], sourcemap: false, outfile: "t.js", ...(define ? { define } : {}) });
    const file = join(dir, `${kind}.mjs`);
    await writeFile(file, text);
    bundles[kind] = { text, mod: (await import(pathToFileURL(file).href)) as ClientModule };
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The error `fn` throws (or the promise rejects with): `{ code, message }`. */
async function caught(fn: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    const err = e as { code: string; message: string; name: string };
    expect(err.name).toBe("ThroughlineError");
    return { code: err.code, message: err.message };
  }
  throw new Error("expected a ThroughlineError");
}

const URL_OK = "http://127.0.0.1:9/realtime";

describe("production browser bundle", () => {
  it("leaves the sentences out of what ships and keeps them in the development build", () => {
    for (const sentence of ["url must be an http(s) URL", "not connected within", "(known: ", "is out of range (got"]) {
      expect(bundles.production.text).not.toContain(sentence);
      expect(bundles.development.text).toContain(sentence);
    }
    expect(bundles.production.text.length).toBeLessThan(bundles.development.text.length);
  });

  it("ships esbuild's bundle minified again by terser: smaller, and the same exports", async () => {
    const r = await build(browserBundleOptions({ entryPoints: [join(ROOT, BROWSER_ENTRIES.throughline)], sourcemap: false, outfile: "t.js" }));
    const esbuildOnly = r.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
    expect(bundles.production.text.length).toBeLessThan(esbuildOnly.length);
    const file = join(dir, "esbuild-only.mjs");
    await writeFile(file, esbuildOnly);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    expect(Object.keys(bundles.production.mod).sort()).toEqual(Object.keys(mod).sort());
  });

  it("ships an IIFE (terser without module scope) whose global Throughline has the ESM bundle's exports", async () => {
    const { js } = await bundleForBrowser({ entryPoints: [join(ROOT, BROWSER_ENTRIES.throughline)], format: "iife", globalName: "Throughline", sourcemap: false, outfile: "t.iife.js" });
    const context: { Throughline?: Record<string, unknown> } = {};
    runInNewContext(js, context);
    expect(Object.keys(context.Throughline ?? {}).sort()).toEqual(Object.keys(bundles.production.mod).sort());
    expect(typeof context.Throughline?.connect).toBe("function");
  });

  it("leaves out what only the development messages use (the close-code names), and mangles only `_` internals", () => {
    // closeCodeName and the CloseCode table are reached only from a `DEV ?` branch (probe.ts).
    expect(bundles.production.text).not.toContain("GOING_AWAY");
    expect(bundles.development.text).toContain("GOING_AWAY");
    for (const b of [bundles.production, bundles.development]) {
      expect(b.text).not.toMatch(/[.{,]_(candidate|adopt|early|requireProof|rotateAfterMs)\b/);
      for (const name of ["connectTimeoutMs", "heartbeatMs", "switchTransport", "diagnostics", "proofTimeoutMs"]) expect(b.text).toContain(name);
    }
  });

  it("leaves the close-code names out of an app's bundle made with only the define (no build plugin)", async () => {
    const r = await build({
      stdin: { contents: 'export { connect } from "@throughline/client";', resolveDir: ROOT, loader: "js", sourcefile: "app.js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
      define: { __THROUGHLINE_DEV__: "false" },
    });
    expect(r.outputFiles[0]!.text).not.toContain("GOING_AWAY");
  });

  it("names the code and the option in option errors", async () => {
    const { connect } = bundles.production.mod;
    expect(await caught(() => connect("nope"))).toEqual({ code: "TL_INVALID_OPTION", message: "Throughline: TL_INVALID_OPTION url" });
    expect(await caught(() => connect(URL_OK, { tokn: "secret" } as never))).toEqual({ code: "TL_INVALID_OPTION", message: "Throughline: TL_INVALID_OPTION tokn" });
    expect(await caught(() => connect(URL_OK, { negotiation: { staggerMs: -1 } }))).toEqual({ code: "TL_INVALID_OPTION", message: "Throughline: TL_INVALID_OPTION negotiation.staggerMs" });
    expect(await caught(() => connect(URL_OK, { reconnect: { minDelay: 1 } as never }))).toEqual({ code: "TL_INVALID_OPTION", message: "Throughline: TL_INVALID_OPTION reconnect.minDelay" });
    expect(await caught(() => connect(URL_OK, { topics: ["bad topic"] }))).toEqual({ code: "TL_BAD_TOPIC", message: 'Throughline: TL_BAD_TOPIC "bad topic"' });
  });

  it("keeps the code, and the value that matters, in channel errors", async () => {
    const ch = bundles.production.mod.connect(URL_OK, { reconnect: false });
    expect(await caught(() => ch.on("message", 5 as never))).toEqual({ code: "TL_INVALID_OPTION", message: "Throughline: TL_INVALID_OPTION message" });
    expect(await caught(() => ch.send(() => 1))).toEqual({ code: "TL_BAD_DATA", message: "Throughline: TL_BAD_DATA function" });
    ch.close();
    expect(await caught(() => ch.send(1))).toEqual({ code: "TL_CLOSED", message: "Throughline: TL_CLOSED" });
  });

  it("has the full sentences, with the same codes, in the development build", async () => {
    const { connect } = bundles.development.mod;
    const e = await caught(() => connect(URL_OK, { tokn: "secret" } as never));
    expect(e.code).toBe("TL_INVALID_OPTION");
    expect(e.message).toMatch(/^Throughline: unknown option `tokn` \(known: topics, /);
    expect(e.message).not.toContain("secret");
    const ch = connect(URL_OK, { reconnect: false });
    ch.close();
    expect(await caught(() => ch.send(1))).toEqual({ code: "TL_CLOSED", message: "Throughline: the channel is closed." });
  });
});
