import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { SNAPSHOT_API_VERSION, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { backupLabelSelector } from '../../lib/velero/labels';
import { freshNamespace, ledger, waitFor } from '../bed/context';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { bedConfig, clusterClient, exists, objectKeys, observedDeps } from './backup-helpers';

/**
 * A backup that failed at its very end: every object was uploaded and its snapshots
 * kept, but the object store refused velero-backup.json (503s past the SDK's retries).
 * It is Failed, with its progress record beside a folder that has no velero-backup.json.
 * Found by the chaos runs (seed 20261203, lifecycle 3774436721): expiry took such a
 * folder for a backup being finalized and kept it forever, with its storage snapshots.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let proxy: FaultProxy;
let name: string;
let handles: string[];

const labelled = async () =>
  listAll<VolumeSnapshotContent>(alpha, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(name) });

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('expiry-failed-upload'));
  alpha = await clusterClient(config, 'alpha');
  const location = config.storageLocations[0]!;
  proxy = await startFaultProxy({ upstream: location.endpoint! });
  const throughProxy: SkiffConfig = { ...config, storageLocations: [{ ...location, endpoint: proxy.url }] };
  const namespace = await freshNamespace('alpha', 'failed-upload');
  await alpha.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(async () => (await listAll(alpha, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'), {
    what: 'the PVC bound',
    timeoutMs: 60_000,
  });
  const annotations = { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' };
  name = (await createBackup(backupServiceDeps(throughProxy), { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1s', annotations })).name;
  proxy.inject({ kind: 'status', status: 503, retryAfterSeconds: 1 }, 120_000, (method, path) => method === 'PUT' && path.includes('/velero-backup.json'));
  const { deps } = await observedDeps(throughProxy, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'failed', phase: 'Failed' });
  proxy.clear();
  handles = (await labelled()).map((c) => c.status!.snapshotHandle!);
}, 180_000);

afterAll(async () => {
  alpha?.close();
  await proxy?.close();
});

describe('Expiry of a backup that failed writing velero-backup.json', () => {
  it('left its objects without velero-backup.json, its progress record and its kept snapshot', async () => {
    const keys = await objectKeys(bucket, `backups/${name}/`);
    expect(keys).toContain(`backups/${name}/${name}.tar.gz`);
    expect(keys).not.toContain(`backups/${name}/velero-backup.json`);
    expect(await exists(bucket, `metadata/skiff/backups-in-progress/${name}.json`)).toBe(true);
    expect(handles).toHaveLength(1);
  });

  it('is deleted once it expired: its snapshot through the driver, then its objects, then its record', async () => {
    // Past its TTL and past the lease of the invocation that failed (its ten minutes).
    const clock = { now: () => new Date(Date.now() + 20 * 60_000), sleep: systemClock.sleep };
    const dry = (await runExpiry({ ...expiryServiceDeps(config), clock }, { location: 'default', dryRun: true })).plan;
    expect(dry.backups.find((b) => b.backup === name)).toMatchObject({ verdict: 'delete', progressRecord: true, finishes: true });
    const result = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 60_000 }, { location: 'default' });
    expect(result.log.filter((e) => e.outcome !== 'done')).toEqual([]);
    expect(result.log.filter((e) => e.backup === name).map((e) => e.kind).slice(-2)).toEqual(['deleteBackupData', 'deleteProgressRecord']);
    expect(result.deleted).toEqual([name]);
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
    expect(await exists(bucket, `metadata/skiff/backups-in-progress/${name}.json`)).toBe(false);
    expect(await labelled()).toEqual([]);
    const snapshot = (await ledger()).snapshots.find((s) => s.handle === handles[0]);
    expect(snapshot?.deleted).toBe(true);
  });
});
