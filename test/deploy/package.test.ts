import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../bed/paths';
import { unzip } from './zip';

/**
 * `serverless package` as a deployment runs it: one zip per function, each holding
 * only its own bundle, and the Kubernetes client only where clusters are reached.
 */

describe('serverless package', () => {
  it('writes one zip per function with its bundle and source map only', { timeout: 300_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'skiff-package-'));
    try {
      await promisify(execFile)(join(repoRoot, 'node_modules/.bin/serverless'), ['package', '--package', out], {
        cwd: repoRoot,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SKIFF_CONFIG: '', SKIFF_CONFIG_FILE: '', SKIFF_CONFIG_PARAMETER: '', SKIFF_CONFIG_SECRET: '' },
        maxBuffer: 16 * 1024 * 1024,
      });
      const functions = Object.keys((parse(readFileSync(join(repoRoot, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as { functions: object }).functions);
      expect(functions).toEqual(
        expect.arrayContaining(['healthz', 'backups', 'backupRunner', 'scheduler', 'sync', 'expiry', 'readiness', 'restores', 'restoreRunner']),
      );
      const zips = readdirSync(out).filter((f) => f.endsWith('.zip'));
      expect(zips.sort()).toEqual(functions.map((f) => `${f}.zip`).sort());

      const sizes: Record<string, string> = {};
      const CONNECTS_TO_CLUSTERS = new Set(['backupRunner', 'sync', 'expiry', 'readiness', 'scheduler', 'restoreRunner', 'status']);
      for (const fn of functions) {
        const path = join(out, `${fn}.zip`);
        const entries = unzip(readFileSync(path));
        const names = [...entries.keys()];
        expect(names.filter((n) => !/\.mjs(\.map)?$/.test(n)), `${fn}.zip holds only its bundle`).toEqual([]);
        const map = entries.get(names.find((n) => n.endsWith('.mjs.map'))!)!;
        const sources = (JSON.parse(map.toString('utf8')) as { sources: string[] }).sources;
        const hasKubeClient = sources.some((s) => s.includes('node_modules/@kubernetes/client-node/'));
        // Only the functions that connect to clusters (the scheduler: its readiness gate; status: its live check).
        expect(hasKubeClient, `${fn} bundles the Kubernetes client`).toBe(CONNECTS_TO_CLUSTERS.has(fn));
        const bundle = entries.get(names.find((n) => n.endsWith('.mjs'))!)!;
        sizes[fn] = `zip ${(statSync(path).size / 1e6).toFixed(2)} MB, bundle ${(bundle.length / 1e6).toFixed(2)} MB`;
      }
      console.log(sizes);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
