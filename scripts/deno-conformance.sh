#!/usr/bin/env bash
# Runs the conformance suite under Deno with the server served by `Deno.serve(rt.fetch)`
# (packages/testkit/deno/): vitest itself runs under Deno. Deno comes from the npm registry: the
# `@deno/linux-x64-glibc` package ships the binary itself, installed once into node_modules/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "deno-conformance: only set up for linux x64 (the @deno/linux-x64-glibc package); skipped"
  exit 0
fi
dir=node_modules/.cache/throughline-deno
deno="$dir/node_modules/@deno/linux-x64-glibc/deno"
if [ ! -x "$deno" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" @deno/linux-x64-glibc@^2 >/dev/null
fi
echo "deno-conformance: $("$deno" --version | head -1)"
TL_RUNTIME=deno exec "$deno" run -A node_modules/vitest/vitest.mjs run --config vitest.runtimes.ts
