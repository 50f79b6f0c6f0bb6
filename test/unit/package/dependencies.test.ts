import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The dependency lists say what an install needs: every package the shipped code
 * (functions/, lib/, cli/, bin/) imports is a runtime dependency, so
 * `npm ci --omit=dev && node bin/skiff.mjs --help` works, and nothing only tests,
 * benchmarks or the bed use is one.
 */
const root = join(import.meta.dirname, '../../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Runtime dependencies the shipped code does not import itself, and why they are needed. */
const NOT_IMPORTED: Record<string, string> = {
  esbuild: '`prepare` builds the CLI with it at install',
  '@aws-sdk/client-secrets-manager': 'the peer of @aws-lambda-powertools/parameters/secrets, which reads API tokens',
  '@aws-sdk/client-ssm': 'the peer of @aws-lambda-powertools/parameters/ssm, which reads the configuration parameter',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Package names imported (statically or dynamically, types excluded) by the files. */
function importedPackages(files: string[]): Set<string> {
  const packages = new Set<string>();
  const builtins = new Set(builtinModules);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const [, typeOnly, spec] of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/g)) {
      if (!typeOnly) add(spec!);
    }
    for (const [, spec] of text.matchAll(/import\('([^']+)'\)/g)) add(spec!);
  }
  return packages;
  function add(spec: string) {
    if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) return;
    const parts = spec.split('/');
    packages.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
}

const shipped = importedPackages(['functions', 'lib', 'cli', 'bin'].flatMap((d) => sourceFiles(join(root, d))));

describe('Module: package.json dependency lists', () => {
  it.each([...shipped].sort().map((p) => [p]))('lists %s, which the shipped code imports, as a runtime dependency', (name) => {
    expect(manifest.dependencies, `${name} is imported by functions/, lib/, cli/ or bin/`).toHaveProperty([name]);
  });

  it('lists as runtime dependencies only what the shipped code imports or the install builds with', () => {
    const unused = Object.keys(manifest.dependencies).filter((name) => !shipped.has(name) && !(name in NOT_IMPORTED));
    expect(unused).toEqual([]);
  });
});
