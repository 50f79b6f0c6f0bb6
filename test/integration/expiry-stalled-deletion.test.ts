import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../lib/backup/run-backup';
import { backupServiceDeps, createBackup } from '../../lib/backup/service';
import type { SkiffConfig } from '../../lib/config';
import { systemClock } from '../../lib/core/clock';
import { CONTENT_FINALIZER, volumeSnapshotContentPath, volumeSnapshotPath, type VolumeSnapshotContent } from '../../lib/csi/snapshot-api';
import { BEING_DELETED_ANNOTATION } from '../../lib/csi/stalled-deletion';
import { expiryServiceDeps, runExpiry } from '../../lib/expiry/service';
import type { KubeClient } from '../../lib/kube/client';
import { listAll } from '../../lib/kube/list-all';
import { storeResolver } from '../../lib/store/resolver';
import { ledger } from '../bed/context';
import { bedConfig, clusterClient, namespaceWithBoundPvc, objectKeys, observedDeps, waitUntilGone } from './backup-helpers';

/**
 * Expiry of a backup whose content was deleted without the snapshot-controller's
 * `volumesnapshot-being-deleted` annotation, its VolumeSnapshot gone: the state the
 * snapshot-controller (v8.7.0) leaves when its PATCH of the annotation fails (an API
 * server restarting) and its retry trusts its cache. The CSI sidecar acts on a bound
 * content only with the annotation, so the content and its storage snapshot stayed
 * forever and expiry waited on them at every run. Found by the chaos runs (seed
 * 20261206, lifecycle 316). Made here by hand: the backup's VolumeSnapshot deleted
 * (the content, Retain, stays with the annotation), the annotation removed, the
 * content set to Delete and deleted directly.
 */

let config: SkiffConfig;
let bucket: string;
let alpha: KubeClient;
let name: string;
let content: VolumeSnapshotContent;

beforeAll(async () => {
  ({ config, bucket } = await bedConfig('expiry-stalled'));
  alpha = await clusterClient(config, 'alpha');
  const namespace = await namespaceWithBoundPvc(alpha, 'alpha', 'stalled', 'sim-ontap');
  const annotations = { 'velero.io/csi-volumesnapshot-class_csi.trident.netapp.io': 'sim-ontap-retain' };
  name = (await createBackup(backupServiceDeps(config), { cluster: 'alpha', includedNamespaces: [namespace], ttl: '1s', annotations })).name;
  const { deps } = await observedDeps(config, name, () => 600_000);
  expect(await runBackup(deps, name)).toEqual({ state: 'completed', phase: 'Completed' });
  const [stored] = await storeResolver(config)('default').getCsiVolumeSnapshotContents(name);
  const path = volumeSnapshotContentPath(stored!.metadata.name);
  const { namespace: vsNamespace, name: vsName } = stored!.spec.volumeSnapshotRef;
  await alpha.delete(volumeSnapshotPath(vsNamespace!, vsName!));
  await waitUntilGone(alpha, volumeSnapshotPath(vsNamespace!, vsName!), 'the backup\'s VolumeSnapshot to be gone');
  await alpha.patch(path, { metadata: { annotations: { [BEING_DELETED_ANNOTATION]: null } }, spec: { deletionPolicy: 'Delete' } }, 'merge');
  await alpha.delete(path);
  // Stalled: the sidecar leaves it as it is.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  content = await alpha.get<VolumeSnapshotContent>(path);
  expect(content.metadata.deletionTimestamp).toBeTruthy();
  expect(content.metadata.finalizers).toEqual([CONTENT_FINALIZER]);
}, 180_000);

afterAll(() => alpha?.close());

describe('Expiry of a backup whose content is stalled being deleted', () => {
  it('sets the being-deleted annotation, so the driver deletes the storage snapshot, then deletes the backup', async () => {
    const clock = { now: () => new Date(Date.now() + 60_000), sleep: systemClock.sleep };
    const result = await runExpiry({ ...expiryServiceDeps(config), clock, waitTimeoutMs: 30_000 }, { location: 'default' });

    expect(result.log.filter((e) => e.outcome !== 'done').map((e) => `${e.kind} ${e.object}: ${e.detail}`)).toEqual([]);
    expect(result.log.filter((e) => e.backup === name).map((e) => e.kind)).toContain('setBeingDeletedAnnotation');
    expect(result.deleted).toEqual([name]);
    const handle = content.status!.snapshotHandle!;
    expect((await ledger()).snapshots.filter((s) => s.handle === handle).map((s) => s.deleted)).toEqual([true]);
    expect(await listAll(alpha, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', { fieldSelector: `metadata.name=${content.metadata.name}` })).toEqual([]);
    expect(await objectKeys(bucket, `backups/${name}/`)).toEqual([]);
  });
});
