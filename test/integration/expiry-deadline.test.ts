import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { storeResolver } from '../../lib/store/resolver';
import { ledger } from '../bed/context';
import { bedConfig, clusterClient, namespaceWithBoundPvc, objectKeys, observedDeps, simulatorConfig } from './backup-helpers';

/**
 * An expiry run whose function's time runs out while the storage is still deleting a
 * snapshot: its waits end before the time limit, so the run records what it waits on
 * and ends by itself, keeps the backup's objects (snapshots go first), and the next
 * run finishes the deletion. Before, each wait took its full timeout whatever time was
 * left, and a run with several waits in a row outlasted its function.
 */

const DELETE_DELAY_MS = 15_000;
const BUDGET_MS = 6_000;

/** The bed's Longhorn-like driver has two classes: the backup names one, as Velero's annotation does. */
const CLASS = { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-delete' };

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let name: string;
let handle: string;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('expiry-deadline'));
  alpha = await clusterClient(config, 'alpha');
  const namespace = await namespaceWithBoundPvc(alpha, 'alpha', 'deadline', 'sim-longhorn');
  name = (await createBackup(backupServiceDeps(config), { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1s', annotations: CLASS })).name;
  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
  const [content] = await storeResolver(config)('default').getCsiVolumeSnapshotContents(name);
  handle = content!.status!.snapshotHandle!;
}, 120_000);

afterAll(() => alpha?.close());

it('ends its waits before the function is stopped, keeps the objects while the snapshot is being deleted, and the next run finishes', async () => {
  const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
  const previous = await simulatorConfig({ deleteDelayMs: DELETE_DELAY_MS });
  try {
    const started = Date.now();
    const deadline = { remainingMs: () => BUDGET_MS - (Date.now() - started), stopMarginMs: BUDGET_MS / 2 };
    const cut = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 120_000, deadline }, { location: 'default' });
    expect(cut.deleted).not.toContain(name);
    expect(cut.unfinished).toContain(name);
    const waited = cut.log.filter((e) => e.backup === name && e.outcome === 'failed');
    expect(waited.map((e) => e.kind)).toEqual(['waitUntilContentGone']);
    expect(waited[0]!.detail).toMatch(/^still there after [0-3]s/);
    expect(await objectKeys(bucket, `backups/${name}/`)).toContain(`backups/${name}/velero-backup.json`);
  } finally {
    await simulatorConfig({ deleteDelayMs: previous.deleteDelayMs ?? 0 });
  }

  const next = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 60_000 }, { location: 'default' });
  expect(next.log.filter((e) => e.outcome !== 'done').map((e) => `${e.kind} ${e.object}: ${e.detail}`)).toEqual([]);
  expect(next.deleted).toEqual([name]);
  expect((await ledger()).snapshots.filter((s) => s.handle === handle).map((s) => s.deleted)).toEqual([true]);
  expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
}, 120_000);
