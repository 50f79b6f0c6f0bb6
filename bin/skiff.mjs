#!/usr/bin/env node
// Starts the command line built from bin/skiff.ts into dist/cli/ (scripts/build-cli.mjs,
// run by `npm ci` / `npm install` and by `npm run build:cli`): plain JavaScript with its
// dependencies inside, so a start compiles nothing and needs no dev dependency.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli/skiff.mjs', import.meta.url);
if (!existsSync(bundle)) {
  console.error('skiff: the command line is not built (dist/cli/skiff.mjs is missing); run `npm run build:cli` (needs the dev dependencies)');
  process.exit(1);
}
await import(bundle.href);
