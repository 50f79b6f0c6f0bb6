import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { SNAPSHOT_API_VERSION, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { storeResolver } from '../../lib/store/resolver';
import { backupLabelSelector } from '../../lib/velero/labels';
import { freshNamespace, ledger, waitFor } from '../bed/context';
import { bedConfig, clusterClient, objectKeys, observedDeps, waitUntilGone } from './backup-helpers';

/**
 * Expiry of a backup whose namespace was deleted after it: the namespace took the
 * backup's VolumeSnapshots with it, so its Retain contents are bound to nothing and
 * name, in their volumeSnapshotRef, a namespace that no longer exists. Found by the
 * chaos runs (test/chaos): expiry tried to claim them there forever, keeping the storage
 * snapshots and the backup.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let name: string;
let handles: string[];

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('expiry-gone-ns'));
  alpha = await clusterClient(config, 'alpha');
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
  await alpha.delete(`/api/v1/namespaces/${namespace}`);
  await waitUntilGone(alpha, `/api/v1/namespaces/${namespace}`, `namespace ${namespace} to be gone`);
}, 180_000);

afterAll(() => alpha?.close());

describe('Expiry of a backup whose namespace was deleted', () => {
  it('frees its storage snapshots through contents claimed in default, then deletes the backup', async () => {
    const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
    const result = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 60_000 }, { location: 'default' });

    expect(result.log.filter((e) => e.outcome !== 'done').map((e) => `${e.kind} ${e.object}: ${e.detail}`)).toEqual([]);
    expect(result.deleted).toEqual([name]);
    const snapshots = (await ledger()).snapshots.filter((s) => handles.includes(s.handle));
    expect(snapshots.map((s) => s.deleted)).toEqual([true, true]);
    expect(await listAll<VolumeSnapshotContent>(alpha, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshotcontents`, { labelSelector: backupLabelSelector(name) })).toEqual([]);
    expect(await listAll(alpha, `/apis/${SNAPSHOT_API_VERSION}/volumesnapshots`, { labelSelector: backupLabelSelector(name) })).toEqual([]);
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
  });
});
