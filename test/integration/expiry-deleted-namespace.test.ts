import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { staticContentFor, staticVolumeSnapshotFor } from '../../lib/csi/builders';
import { SNAPSHOT_API_VERSION, volumeSnapshotContentPath, volumeSnapshotPath, type VolumeSnapshot, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { storeResolver } from '../../lib/store/resolver';
import { backupLabelSelector, backupLabelValue, BACKUP_NAME_LABEL } from '../../lib/velero/labels';
import { freshNamespace, ledger, waitFor } from '../bed/context';
import { bedConfig, clusterClient, objectKeys, observedDeps, waitUntilGone } from './backup-helpers';

/**
 * Expiry of a backup whose namespace was deleted after it: the namespace took the
 * backup's VolumeSnapshots with it, so its Retain contents are bound to nothing and
 * name, in their volumeSnapshotRef, a namespace that no longer exists. Found by the
 * chaos runs (test/chaos): expiry tried to claim them there forever, keeping the storage
 * snapshots and the backup. Beside it, in beta, a copy of one snapshot (as a restore
 * makes) whose VolumeSnapshot was deleted while its namespace stays: its ref keeps the
 * gone VolumeSnapshot's uid, which the snapshot-controller holds against a new claim.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let beta: KubeClient;
let name: string;
let handles: string[];

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('expiry-gone-ns'));
  alpha = await clusterClient(config, 'alpha');
  beta = await clusterClient(config, 'beta');
  const namespace = await freshNamespace('alpha', 'gone');
  for (const [i, storageClassName] of ['sim-longhorn', 'sim-ontap'].entries()) {
    await alpha.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
      metadata: { name: `data-${i}` },
      spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
  }
  await waitFor(async () => (await listAll(alpha, `/api/v1/namespaces/${namespace}/persistentvolumeclaims`)).every((c) => (c.status as { phase?: string })?.phase === 'Bound'), {
    what: 'PVCs bound',
    timeoutMs: 60_000,
  });
  const annotations = { 'velero.io/csi-volumesnapshot-class_driver.longhorn.io': 'sim-longhorn-retain', 'velero.io/csi-volumesnapshot-class_csi.trident.netapp.io': 'sim-ontap-retain' };
  name = (await createBackup(backupServiceDeps(config), { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1s', annotations })).name;
  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
  handles = (await storeResolver(config)('default').getCsiVolumeSnapshotContents(name)).map((c) => c.status!.snapshotHandle!);
  const copy = `copy-${name}`;
  const kept = await freshNamespace('beta', 'kept');
  await beta.create(`/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, staticContentFor({
    name: copy,
    driver: 'driver.longhorn.io',
    snapshotHandle: handles.find((h) => h.startsWith('bak://'))!,
    deletionPolicy: 'Retain',
    volumeSnapshotRef: { namespace: kept, name: 'copy' },
    labels: { [BACKUP_NAME_LABEL]: backupLabelValue(name) },
  }));
  await beta.create(`/apis/${SNAPSHOT_API_VERSION}/namespaces/${kept}/volumesnapshots`, staticVolumeSnapshotFor({ namespace: kept, name: 'copy', contentName: copy }));
  await waitFor(async () => (await beta.get<VolumeSnapshot>(volumeSnapshotPath(kept, 'copy'))).status?.readyToUse === true, { what: 'the copy ready', timeoutMs: 30_000 });
  await beta.delete(volumeSnapshotPath(kept, 'copy'));
  await waitUntilGone(beta, volumeSnapshotPath(kept, 'copy'), 'the copy\'s VolumeSnapshot to be gone');
  expect((await beta.get<VolumeSnapshotContent>(volumeSnapshotContentPath(copy))).spec.volumeSnapshotRef.uid).toBeTruthy();
  await alpha.delete(`/api/v1/namespaces/${namespace}`);
  await waitUntilGone(alpha, `/api/v1/namespaces/${namespace}`, `namespace ${namespace} to be gone`);
}, 180_000);

afterAll(() => {
  alpha?.close();
  beta?.close();
});

describe('Expiry of a backup whose namespace was deleted', () => {
  it('frees its storage snapshots (through temporary contents, and the copy claimed again), then deletes the backup', async () => {
    const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
    const result = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 60_000 }, { location: 'default' });

    expect(result.log.filter((e) => e.outcome !== 'done').map((e) => `${e.kind} ${e.object}: ${e.detail}`)).toEqual([]);
    expect(result.deleted).toEqual([name]);
    const snapshots = (await ledger()).snapshots.filter((s) => handles.includes(s.handle));
    expect(snapshots.map((s) => s.deleted)).toEqual([true, true]);
    for (const client of [alpha, beta]) {
      expect(await listAll<VolumeSnapshotContent>(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(name) })).toEqual([]);
      expect(await listAll(client, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshots`, { labelSelector: backupLabelSelector(name) })).toEqual([]);
    }
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
  });
});
