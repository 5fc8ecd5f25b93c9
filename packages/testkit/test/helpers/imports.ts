/** Bare package names a source tree imports (static `import`/`export … from`, `import()`). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm;

/** `"@scope/name/sub"` → `"@scope/name"`, `"name/sub"` → `"name"`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

export function sourceImports(dir: string): Set<string> {
  const out = new Set<string>();
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith(".ts")) continue;
    const text = readFileSync(join(e.parentPath, e.name), "utf8");
    for (const m of text.matchAll(SPECIFIER)) {
      const s = m[1] ?? m[2] ?? m[3];
      if (s && !s.startsWith(".")) out.add(packageName(s));
    }
  }
  return out;
}
