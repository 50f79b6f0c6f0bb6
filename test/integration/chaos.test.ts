import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedState } from '../bed/context';
import { runChaos, type ChaosReport } from '../chaos/chaos';
import { startChaosProxies, type ChaosProxies } from '../chaos/proxies';

/**
 * A short fixed-seed chaos run (test/chaos, `npm run chaos` for long ones): randomized
 * backup, sync, restore, deletion and expiry steps under faults (job processes killed
 * at their own steps, S3 errors, delays and dropped connections, slow or failing
 * storage, API servers answering 429, 500 or 503), with Skiff's data-safety invariants checked after every step. The bed
 * belongs to the test runner here, so MinIO and API server restarts are left to
 * `npm run chaos`.
 */

const SEED = 20261130;
let proxies: ChaosProxies;
let report: ChaosReport;

beforeAll(async () => {
  const state = bedState();
  proxies = await startChaosProxies(state);
  const dir = mkdtempSync(join(tmpdir(), 'skiff-chaos-'));
  report = await runChaos({ state, s3Proxy: proxies.s3, kubeProxies: proxies.kube, logDir: join(dir, 'logs'), configDir: join(dir, 'config'), faultRate: 1, log: () => undefined }, SEED, 2);
}, 170_000);

afterAll(async () => {
  await proxies?.close();
});

describe(`chaos, seed ${SEED}`, () => {
  it('runs every lifecycle to its end, with faults injected', () => {
    expect(report.runs.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('breaks no invariant', () => {
    expect(report.violations).toEqual([]);
  });
});
