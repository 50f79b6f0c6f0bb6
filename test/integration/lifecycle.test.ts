import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import { validateConfig, type SkiffConfig } from '../../lib/config';
import { systemClock, type Clock } from '../../lib/core/clock';
import { SNAPSHOT_API_VERSION, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { connectCluster } from '../../lib/kube/connect';
import { listAll } from '../../lib/kube/list-all';
import { readCatalog } from '../../lib/store/catalog';
import { storeResolver } from '../../lib/store/resolver';
import { runSync } from '../../lib/sync/service';
import { backupLabelSelector } from '../../lib/velero/labels';
import { bedState, freshBucket, freshNamespace, ledger, waitFor } from '../bed/context';
import { skiffConfigForBed } from '../bed/skiff-config';
import { clusterClient, objectKeys, observedDeps } from './backup-helpers';

/**
 * The jobs one after another, as a deployment runs them: a backup in alpha, its
 * rediscovery into beta, and its expiry, which must free the storage snapshot through
 * the copy in beta as well as the original in alpha, leave no content in either
 * cluster and no object in the bucket; a later rediscovery must not bring it back.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let beta: KubeClient;
let backupName: string;
let handle: string;

/** The wall clock, two days on: the backup's 1-hour TTL has passed. */
const later: Clock = { now: () => new Date(Date.now() + 2 * 86_400_000), sleep: systemClock.sleep };

const contentsOf = (client: KubeClient) =>
  listAll<VolumeSnapshotContent>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(backupName) });
const syncDeps = () => ({ config, storeFor: storeResolver(config), connect: (name: string) => connectCluster(config.clusters.find((c) => c.name === name)!), clock: systemClock, waitTimeoutMs: 60_000 });

beforeAll(async () => {
  bucket = await freshBucket('lifecycle');
  config = validateConfig(skiffConfigForBed(bedState(), { bucket, apiToken: 'test-api-token' }), 'test');
  [alpha, beta] = [await clusterClient(config, 'alpha'), await clusterClient(config, 'beta')];
  const namespace = await freshNamespace('alpha', 'lifecycle');
  await alpha.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    metadata: { name: 'data' },
    spec: { storageClassName: 'sim-longhorn', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  await waitFor(async () => (await listAll(alpha, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'), {
    what: 'the PVC bound',
    timeoutMs: 90_000,
  });
  const request = { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1h', annotations: { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain' } };
  backupName = (await createBackup(backupServiceDeps(config), request)).name;
  const { deps } = await observedDeps(config, backupName, () => 600_000);
  expect(await runBackup(deps, backupName)).toEqual({ state: 'completed', phase: 'Completed' });
  handle = (await storeResolver(config)('default').getCsiVolumeSnapshotContents(backupName))[0]!.status!.snapshotHandle!;
}, 240_000);

afterAll(() => {
  alpha?.close();
  beta?.close();
});

describe('backup, rediscovery, expiry', () => {
  it('rediscovery makes the snapshot usable in beta without cutting one', async () => {
    const cutBefore = (await ledger()).snapshots.length;
    await runSync(syncDeps(), { cluster: 'beta' });
    const [copy] = await contentsOf(beta);
    expect(copy?.spec.source).toEqual({ snapshotHandle: handle });
    expect(copy?.status?.readyToUse).toBe(true);
    expect((await ledger()).snapshots.length).toBe(cutBefore);
  });

  it('expiry frees the storage snapshot in both clusters and then the bucket', async () => {
    const result = await runExpiry({ ...expiryServiceDeps(config), clock: later, waitTimeoutMs: 90_000 }, { location: 'default' });

    expect(result.deleted).toEqual([backupName]);
    expect(await contentsOf(alpha)).toEqual([]);
    expect(await contentsOf(beta)).toEqual([]);
    const snapshot = (await ledger()).snapshots.find((s) => s.handle === handle);
    expect(snapshot?.deleted).toBeTruthy();
    expect(await objectKeys(bucket, `backups/${backupName}/`)).toEqual([]);
    expect(await objectKeys(bucket, 'metadata/skiff/deleting/')).toEqual([]);
  });

  it('a later rediscovery does not bring the expired backup back', async () => {
    await runSync(syncDeps(), { cluster: 'beta' });
    expect(await contentsOf(beta)).toEqual([]);
    expect((await readCatalog(storeResolver(config)('default'))).catalog.backups[backupName]).toBeUndefined();
  });
});
