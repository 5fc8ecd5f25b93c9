#!/usr/bin/env node
// `npx throughline doctor <url>`: runs the built CLI (`npm run build` in a checkout).
import { main } from "../dist/cli.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
