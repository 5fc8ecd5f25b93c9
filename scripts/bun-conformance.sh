#!/usr/bin/env bash
# Runs the conformance suite under Bun with the server served by `Bun.serve({ fetch: rt.fetch })`
# (packages/testkit/bun/). Bun comes from the npm registry: the `@oven/bun-linux-x64` package
# ships the binary itself (no download step), installed once into node_modules/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "bun-conformance: only set up for linux x64 (the @oven/bun-linux-x64 package); skipped"
  exit 0
fi
dir=node_modules/.cache/throughline-bun
bun="$dir/node_modules/@oven/bun-linux-x64/bin/bun"
if [ ! -x "$bun" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" @oven/bun-linux-x64@^1 >/dev/null
fi
echo "bun-conformance: bun $("$bun" --version)"
# `bun test` runs vitest-style files; the root tsconfig's paths map @throughline/* to sources.
exec "$bun" test --timeout 30000 packages/testkit/bun/
