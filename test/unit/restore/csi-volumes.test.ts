import { describe, expect, it } from 'vitest';
import type { VolumeSnapshot } from '../../../lib/csi/snapshot-api';
import { planSnapshotRestore, restoredSnapshotName, type SnapshotRestoreInput } from '../../../lib/restore/csi-volumes';

const HANDLE = 'bak://pvc-1/backup-0123456789abcdef';

function snapshot(annotations: Record<string, string>): VolumeSnapshot {
  return { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'velero-data-abc', namespace: 'shop', annotations }, spec: { source: { persistentVolumeClaimName: 'data' } } };
}

const longhornClass = { metadata: { name: 'lh-retain' }, driver: 'driver.longhorn.io', deletionPolicy: 'Retain' };

function input(overrides: Partial<SnapshotRestoreInput> = {}): SnapshotRestoreInput {
  return {
    restoreName: 'r1',
    restoreUid: 'uid-1',
    backupName: 'b1',
    pvc: 'shop/data',
    targetNamespace: 'shop-copy',
    volumeSnapshotName: 'velero-data-abc',
    volumeSnapshot: snapshot({ 'velero.io/csi-volumesnapshot-handle': HANDLE, 'velero.io/csi-driver-name': 'driver.longhorn.io' }),
    contents: new Map(),
    target: { classes: [longhornClass], drivers: new Set(['driver.longhorn.io']) },
    targetCluster: 'beta',
    ...overrides,
  };
}

describe('Function: planSnapshotRestore', () => {
  it('builds a Retain static content and a snapshot bound to it in the target namespace, named from the restore uid', () => {
    const plan = planSnapshotRestore(input());
    expect(plan.kind).toBe('snapshot');
    if (plan.kind !== 'snapshot') return;
    const name = restoredSnapshotName('uid-1', 'velero-data-abc');
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.content.metadata.name).toBe(name);
    expect(plan.content.spec).toEqual({
      deletionPolicy: 'Retain',
      driver: 'driver.longhorn.io',
      source: { snapshotHandle: HANDLE },
      volumeSnapshotClassName: 'lh-retain',
      volumeSnapshotRef: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', namespace: 'shop-copy', name },
    });
    expect(plan.snapshot.metadata).toMatchObject({ name, namespace: 'shop-copy', labels: { 'velero.io/restore-name': 'r1', 'velero.io/backup-name': 'b1' } });
    expect(plan.snapshot.spec).toEqual({ source: { volumeSnapshotContentName: name } });
  });

  it.each([
    ['the snapshot is not in the backup', { volumeSnapshot: undefined }, /VolumeSnapshot velero-data-abc is not in the backup/],
    ['the snapshot has no handle', { volumeSnapshot: snapshot({}) }, /has no snapshot handle or driver/],
    [
      'the handle is in the wrong format',
      { volumeSnapshot: snapshot({ 'velero.io/csi-volumesnapshot-handle': 'pvc-1/backup-1', 'velero.io/csi-driver-name': 'driver.longhorn.io' }) },
      /is unusable: expected bak:\/\//,
    ],
    ['the driver is not installed in the target', { target: { classes: [longhornClass], drivers: new Set(['other.csi']) } }, /CSI driver driver.longhorn.io is not installed in cluster "beta"/],
    ['the target has no class of the driver', { target: { classes: [], drivers: new Set(['driver.longhorn.io']) } }, /has no VolumeSnapshotClass of driver driver.longhorn.io/],
  ])('is an error for that PVC when %s', (_case, overrides, message) => {
    const plan = planSnapshotRestore(input(overrides as Partial<SnapshotRestoreInput>));
    expect(plan.kind).toBe('error');
    expect(plan.kind === 'error' && plan.message).toMatch(/^PVC shop\/data: /);
    expect(plan.kind === 'error' && plan.message).toMatch(message);
  });

  it("reads the handle from the backed-up content when the snapshot's annotations lack it", () => {
    const vs = { ...snapshot({}), status: { boundVolumeSnapshotContentName: 'snapcontent-1' } };
    const contents = new Map([['snapcontent-1', { metadata: { name: 'snapcontent-1' }, spec: { driver: 'driver.longhorn.io', deletionPolicy: 'Retain' as const, source: {}, volumeSnapshotRef: {} }, status: { snapshotHandle: HANDLE } }]]);
    const plan = planSnapshotRestore(input({ volumeSnapshot: vs, contents }));
    expect(plan.kind === 'snapshot' && plan.snapshotHandle).toBe(HANDLE);
  });
});
