import { describe, expect, it } from 'vitest';
import { pvcFromSnapshot, staticContentFor, staticVolumeSnapshotFor, type PersistentVolumeClaimObject } from '../../../lib/csi/builders';

describe('Module: csi/builders', () => {
  it('builds a static content from the snapshot handle, never a volume handle (Velero #7978)', () => {
    const content = staticContentFor({
      name: 'skiff-abc',
      driver: 'driver.longhorn.io',
      snapshotHandle: 'bak://pvc-1/backup-1',
      deletionPolicy: 'Retain',
      volumeSnapshotRef: { namespace: 'ns', name: 'vs' },
      labels: { 'velero.io/backup-name': 'b1' },
    });
    expect(content.spec.source).toEqual({ snapshotHandle: 'bak://pvc-1/backup-1' });
    expect(content.spec).toMatchObject({
      deletionPolicy: 'Retain',
      driver: 'driver.longhorn.io',
      volumeSnapshotRef: { kind: 'VolumeSnapshot', namespace: 'ns', name: 'vs' },
    });
    expect(content.metadata).toEqual({ name: 'skiff-abc', labels: { 'velero.io/backup-name': 'b1' } });
  });

  it('builds a VolumeSnapshot that claims a content by name', () => {
    const vs = staticVolumeSnapshotFor({ namespace: 'ns', name: 'vs', contentName: 'skiff-abc' });
    expect(vs.spec).toEqual({ source: { volumeSnapshotContentName: 'skiff-abc' } });
    expect(vs.metadata).toEqual({ name: 'vs', namespace: 'ns' });
  });

  it.each([
    ['volumeName', { volumeName: 'pv-1', resources: { requests: { storage: '1Gi' } } }],
    ['an earlier data source', { dataSource: { kind: 'PersistentVolumeClaim', name: 'x' } }],
  ])('makes a PVC restore from a VolumeSnapshot, replacing %s', (_, spec) => {
    const pvc: PersistentVolumeClaimObject & { metadata: { annotations: Record<string, string> } } = {
      metadata: { name: 'data', namespace: 'app', annotations: { 'pv.kubernetes.io/bind-completed': 'yes', keep: 'me' } },
      spec: { ...spec },
    };
    const restored = pvcFromSnapshot(pvc, 'velero-data-x1');
    const source = { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'velero-data-x1' };
    expect(restored.spec?.dataSource).toEqual(source);
    expect(restored.spec?.dataSourceRef).toEqual(source);
    expect(restored.spec?.volumeName).toBeUndefined();
    expect(restored.metadata.annotations).toEqual({ keep: 'me' });
    expect(pvc.metadata.annotations['pv.kubernetes.io/bind-completed']).toBe('yes');
  });
});
