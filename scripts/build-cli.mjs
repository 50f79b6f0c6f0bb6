#!/usr/bin/env node
/**
 * Builds the `skiff` command line into dist/cli/: bin/skiff.ts and everything it
 * imports, dependencies included, bundled by esbuild into plain ES modules. Starting
 * the CLI then compiles no TypeScript and resolves no packages, and it runs from an
 * install without dev dependencies (`npm ci --omit=dev`).
 *
 * The entry (dist/cli/skiff.mjs) holds only the argument parser. Each command's code is
 * a chunk of its own (`splitting`), loaded by a dynamic import() once the command line
 * names it: `skiff --help` and usage errors never load the AWS SDK or the Kubernetes
 * client. The build fails if a change makes the entry load them after all.
 *
 *   node scripts/build-cli.mjs               build dist/cli/ (also `npm run build:cli`)
 *   node scripts/build-cli.mjs --outdir DIR  build elsewhere (tests, benchmarks)
 *   node scripts/build-cli.mjs --prepare     npm's `prepare` script: see below
 *
 * Why the build runs from `prepare`: npm runs the root package's `prepare` on every
 * `npm ci` and `npm install` (and when packing or installing the package from git), so
 * the README's `npm ci && ...` leaves a working `npx skiff` with no extra step, and the
 * built CLI can never be forgotten or committed (dist/ is ignored). esbuild is a
 * runtime dependency for that reason: `npm ci --omit=dev && node bin/skiff.mjs --help`
 * works on a fresh clone. Should esbuild be missing all the same, `--prepare` keeps a
 * CLI an earlier install built and otherwise warns instead of failing the install;
 * bin/skiff.mjs then says how to build it.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const prepare = args.includes('--prepare');
const outdirAt = args.indexOf('--outdir');
const outdir = outdirAt >= 0 && args[outdirAt + 1] ? resolve(args[outdirAt + 1]) : join(repoRoot, 'dist/cli');
const entryFile = join(outdir, 'skiff.mjs');

/** Packages the entry chunk must not contain or import: they are what makes a start slow. */
const HEAVY = /node_modules\/(@aws-sdk|@smithy|@kubernetes)\//;

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (error) {
  if (!prepare || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  if (existsSync(entryFile)) {
    console.error(`build-cli: esbuild is not installed (dev dependencies omitted); keeping the CLI already built in ${relative(repoRoot, outdir)}/`);
  } else {
    console.error(
      'build-cli: esbuild is not installed (dev dependencies omitted) and the CLI was never built: ' +
        '`npx skiff` will not work until `npm ci` (with dev dependencies) or `npm run build:cli` has run once.',
    );
  }
  process.exit(0);
}

const started = performance.now();
// Built next to the target and moved into place whole, so a failed build (or the check
// below) leaves the previous CLI intact, and no chunk of an older build lingers.
const staging = `${outdir}.tmp-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
let result;
try {
  result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: { skiff: 'bin/skiff.ts' },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // The machines' Node and Lambda's both run it; 20 is the oldest of them.
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS packages call require() for Node's built-ins; an ES module has
    // no require of its own, so every output file gets one.
    banner: {
      js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);",
    },
    // Whitespace and syntax only: identifiers keep their names, so error classes keep
    // theirs (SkiffError subclasses name themselves after their class).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // `skiff version` prints the version of the package it was built from.
    define: { SKIFF_VERSION: JSON.stringify(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version) },
    metafile: true,
    logLevel: 'warning',
  });
  checkEntryStaysLight(result.metafile, join(staging, 'skiff.mjs'));
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  if (error?.errors) process.exit(1); // esbuild has printed them
  console.error(`build-cli: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
rmSync(outdir, { recursive: true, force: true });
renameSync(staging, outdir);

const entryBytes = statSync(entryFile).size;
const total = sizeOf(outdir);
console.error(
  `build-cli: ${relative(repoRoot, outdir) || outdir}/skiff.mjs (${kb(entryBytes)} loaded at start, ` +
    `${kb(total - entryBytes)} more in chunks loaded by commands) in ${Math.round(performance.now() - started)} ms`,
);

/**
 * Fails the build if the entry, or any chunk it imports statically, holds the AWS SDK
 * or the Kubernetes client: those must stay behind the commands' dynamic imports.
 */
function checkEntryStaysLight(metafile, entryPath) {
  const outputs = metafile.outputs;
  const key = (path) => relative(repoRoot, path).split('\\').join('/');
  const seen = new Set();
  const queue = [key(entryPath)];
  const heavy = [];
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const output = outputs[file];
    if (!output) throw new Error(`build-cli: ${file} is missing from esbuild's metafile`);
    const shown = relative(dirname(entryPath), join(repoRoot, file));
    heavy.push(...Object.keys(output.inputs).filter((input) => HEAVY.test(input)).map((input) => `${shown}: ${input}`));
    for (const imported of output.imports) {
      if (imported.kind === 'import-statement' && !imported.external) queue.push(imported.path);
    }
  }
  if (heavy.length > 0) {
    throw new Error(
      `the CLI's entry loads the AWS SDK or the Kubernetes client at start (import them in a command, with import()):\n  ` +
        heavy.slice(0, 10).join('\n  '),
    );
  }
}

function sizeOf(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return bytes;
}

function kb(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} kB`;
}
