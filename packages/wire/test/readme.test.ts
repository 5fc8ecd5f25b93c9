/**
 * The README's code tables are the documentation users read: every error and close code defined
 * here must be in it, so adding a code without documenting it fails the build.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOSE_CODES, ERROR_CODES } from "@throughline/wire";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

describe("README code tables", () => {
  it("documents every error code with its HTTP status, close code and reconnect rule", () => {
    for (const e of ERROR_CODES) {
      const reconnect = e.close === undefined ? "—" : e.reconnect ? "yes" : "no";
      expect(readme, e.code).toContain(`| \`${e.code}\` | ${e.status ?? "—"} | ${e.close ?? "—"} | ${reconnect} |`);
    }
  });

  it("documents every close code with its name and reconnect behaviour", () => {
    for (const c of CLOSE_CODES) {
      expect(readme, c.name).toContain(`| ${c.code} | \`${c.name}\` | ${c.reconnect ? "yes" : "no"}`);
    }
  });
});
