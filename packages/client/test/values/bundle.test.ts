/**
 * Pay only for the transports you use: an app importing some transport values of
 * `@throughline/client/core` bundles only those modules (esbuild with the shipped browser
 * options, inputs read from the metafile), while the default entry keeps all three.
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { BROWSER_ENTRIES, ROOT, browserBundleOptions } from "../../../../scripts/build.mjs";
import { TRANSPORT_COMBINATIONS, combinationSource } from "../../../../scripts/size.mjs";

const MODULES = {
  sse: "packages/client/src/transports/sse.ts",
  websocket: "packages/client/src/transports/websocket.ts",
  longPoll: "packages/client/src/transports/long-poll.ts",
} as const;
type Value = keyof typeof MODULES;

/** Source files with bytes in the output (esbuild lists tree-shaken files as inputs with 0 bytes). */
async function inputs(options: object): Promise<string[]> {
  const r = await build(browserBundleOptions({ sourcemap: false, outfile: "t.js", metafile: true, ...options }));
  const [output] = Object.values(r.metafile!.outputs);
  return Object.entries(output!.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path);
}

const combination = (values: readonly Value[]) =>
  inputs({ entryPoints: undefined, stdin: { contents: combinationSource(values), resolveDir: ROOT, loader: "js", sourcefile: "app.js" } });

describe("bundles of the core entry", () => {
  it.each(Object.entries(TRANSPORT_COMBINATIONS) as Array<[string, Value[]]>)("%s: contains exactly the transport modules imported", async (_label, values) => {
    const got = await combination(values);
    for (const [value, path] of Object.entries(MODULES)) expect([value, got.includes(path)]).toEqual([value, values.includes(value as Value)]);
  });

  it("SSE only: no WebSocket code at all (its ticket exchange, its URL helper) and no long-poll batch decoder", async () => {
    const got = await combination(["sse"]);
    expect(got).not.toContain("packages/client/src/auth.ts");
    const r = await build(browserBundleOptions({ entryPoints: undefined, stdin: { contents: combinationSource(["sse"]), resolveDir: ROOT, loader: "js", sourcefile: "app.js" }, sourcemap: false, outfile: "t.js", minify: false }));
    const text = r.outputFiles![0]!.text;
    expect(text).not.toMatch(/function toWebSocketUrl|function decodePollBatch|function webSocketTransport|function longPollTransport/);
    expect(text).toMatch(/sseTransport/);
  });

  it("the default entry keeps all three", async () => {
    const got = await inputs({ entryPoints: [`${ROOT}/${BROWSER_ENTRIES.throughline}`] });
    for (const path of Object.values(MODULES)) expect(got).toContain(path);
  });
});
