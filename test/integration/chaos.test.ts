import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bedState } from '../bed/context';
import { runChaos, type ChaosReport } from '../chaos/chaos';

/**
 * A short fixed-seed chaos run (test/chaos, `npm run chaos` for long ones): randomized
 * backup, sync, restore, deletion and expiry steps under faults (job processes killed
 * at their own steps, S3 errors, delays and dropped connections, slow or failing
 * storage, API servers answering 429, 500 or 503), with Skiff's data-safety invariants checked after every step. The bed
 * belongs to the test runner here, so MinIO and API server restarts are left to
 * `npm run chaos`.
 */

const SEED = 20261130;
let report: ChaosReport;

beforeAll(async () => {
  const state = bedState();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-chaos-'));
  // Two lanes: the lifecycles run side by side, as `npm run chaos` runs them.
  report = await runChaos({ state, logDir: join(dir, 'logs'), configDir: join(dir, 'config'), faultRate: 1, lanes: 2, log: () => undefined }, SEED, 3);
}, 170_000);

describe(`chaos, seed ${SEED}`, () => {
  it('runs every lifecycle to its end, with faults injected', () => {
    expect(report.runs.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('breaks no invariant', () => {
    expect(report.violations).toEqual([]);
  });
});
