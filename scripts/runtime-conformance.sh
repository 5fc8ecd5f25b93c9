#!/usr/bin/env bash
# Runs the conformance suite under another runtime with the server served by its own Fetch
# server and `rt.fetch`: `bun` (Bun.serve, `bun test`, packages/testkit/bun/) or `deno`
# (Deno.serve, vitest run by Deno, packages/testkit/deno/). Each runtime comes from the npm
# registry as a package that ships the binary itself (no download step), installed once into
# node_modules/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime=${1:?usage: runtime-conformance.sh bun|deno}
case "$runtime" in
  bun) package="@oven/bun-linux-x64@^1"; binary="@oven/bun-linux-x64/bin/bun" ;;
  deno) package="@deno/linux-x64-glibc@^2"; binary="@deno/linux-x64-glibc/deno" ;;
  *) echo "runtime-conformance: unknown runtime $runtime (bun or deno)" >&2; exit 2 ;;
esac
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "runtime-conformance: $runtime is only set up for linux x64 here; skipped"
  exit 0
fi
dir="node_modules/.cache/throughline-$runtime"
bin="$dir/node_modules/$binary"
if [ ! -x "$bin" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$package" >/dev/null
fi
echo "runtime-conformance: $runtime $("$bin" --version | head -1)"
if [ "$runtime" = bun ]; then
  # `bun test` runs vitest-style files; the root tsconfig's paths map @throughline/* to sources.
  exec "$bin" test --timeout 30000 packages/testkit/bun/
fi
TL_RUNTIME=deno exec "$bin" run -A node_modules/vitest/vitest.mjs run --config vitest.runtimes.ts
