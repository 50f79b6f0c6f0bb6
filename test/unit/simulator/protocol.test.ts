import { describe, expect, it } from 'vitest';
import { LONGHORN_DRIVER, ONTAP_DRIVER } from '../../bed/simulator/personalities';
import {
  ANN_PROVISIONED_BY,
  ANN_STORAGE_PROVISIONER,
  PV_FINALIZER,
  claimDriver,
  volumeShouldBeDeleted,
} from '../../bed/simulator/provisioner';
import { ANN_BEING_CREATED, ANN_BEING_DELETED, contentShouldBeDeleted } from '../../bed/simulator/snapshotter';
import type { PersistentVolume, PersistentVolumeClaim, VolumeSnapshotContent } from '../../bed/simulator/types';

function content(overrides: {
  deleting?: boolean;
  annotations?: Record<string, string>;
  source?: VolumeSnapshotContent['spec']['source'];
  refUid?: string;
}): VolumeSnapshotContent {
  return {
    metadata: {
      name: 'c',
      ...(overrides.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
      annotations: overrides.annotations ?? {},
    },
    spec: {
      driver: ONTAP_DRIVER,
      deletionPolicy: 'Delete',
      source: overrides.source ?? { volumeHandle: 'pvc-1' },
      volumeSnapshotRef: { name: 'vs', namespace: 'ns', ...(overrides.refUid !== undefined ? { uid: overrides.refUid } : {}) },
    },
  };
}

describe('when the sidecar deletes a content (shouldDelete)', () => {
  it('never without a deletionTimestamp', () => {
    expect(contentShouldBeDeleted(content({ annotations: { [ANN_BEING_DELETED]: 'yes' }, refUid: 'u' }))).toBe(false);
  });

  it('for an unbound pre-provisioned content as soon as it is deleted', () => {
    expect(contentShouldBeDeleted(content({ deleting: true, source: { snapshotHandle: 'h' }, refUid: '' }))).toBe(true);
    expect(contentShouldBeDeleted(content({ deleting: true, source: { snapshotHandle: 'h' } }))).toBe(true);
  });

  it('for a bound content only once the snapshot-controller marked it being-deleted', () => {
    expect(contentShouldBeDeleted(content({ deleting: true, refUid: 'u' }))).toBe(false);
    expect(contentShouldBeDeleted(content({ deleting: true, source: { snapshotHandle: 'h' }, refUid: 'u' }))).toBe(false);
    expect(contentShouldBeDeleted(content({ deleting: true, refUid: 'u', annotations: { [ANN_BEING_DELETED]: 'yes' } }))).toBe(
      true,
    );
  });

  it('not while a CreateSnapshot call is in flight', () => {
    expect(
      contentShouldBeDeleted(
        content({ deleting: true, refUid: 'u', annotations: { [ANN_BEING_DELETED]: 'yes', [ANN_BEING_CREATED]: 'yes' } }),
      ),
    ).toBe(false);
  });
});

function claim(overrides: Partial<PersistentVolumeClaim['metadata']> & { phase?: string; volumeName?: string }): PersistentVolumeClaim {
  const { phase, volumeName, ...meta } = overrides;
  return {
    metadata: { name: 'data', namespace: 'app', uid: 'u1', annotations: { [ANN_STORAGE_PROVISIONER]: LONGHORN_DRIVER }, ...meta },
    spec: { ...(volumeName ? { volumeName } : {}) },
    status: { phase: phase ?? 'Pending' },
  };
}

describe('which claims the provisioner takes', () => {
  it('pending claims handed to one of our drivers', () => {
    expect(claimDriver(claim({}))?.driver).toBe(LONGHORN_DRIVER);
    expect(claimDriver(claim({ annotations: { 'volume.beta.kubernetes.io/storage-provisioner': ONTAP_DRIVER } }))?.driver).toBe(
      ONTAP_DRIVER,
    );
  });

  it('not claims of other drivers, bound, pre-bound or deleted claims', () => {
    expect(claimDriver(claim({ annotations: { [ANN_STORAGE_PROVISIONER]: 'ebs.csi.aws.com' } }))).toBeUndefined();
    expect(claimDriver(claim({ annotations: {} }))).toBeUndefined();
    expect(claimDriver(claim({ phase: 'Bound' }))).toBeUndefined();
    expect(claimDriver(claim({ volumeName: 'pv-x' }))).toBeUndefined();
    expect(claimDriver(claim({ deletionTimestamp: '2025-01-01T00:00:00Z' }))).toBeUndefined();
  });
});

function pv(overrides: {
  phase?: string;
  reclaim?: string;
  finalizers?: string[];
  deleting?: boolean;
  provisionedBy?: string;
  driver?: string;
}): PersistentVolume {
  return {
    metadata: {
      name: 'pvc-u1',
      finalizers: overrides.finalizers ?? [PV_FINALIZER, 'kubernetes.io/pv-protection'],
      annotations: overrides.provisionedBy === undefined ? { [ANN_PROVISIONED_BY]: ONTAP_DRIVER } : { [ANN_PROVISIONED_BY]: overrides.provisionedBy },
      ...(overrides.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    spec: {
      persistentVolumeReclaimPolicy: overrides.reclaim ?? 'Delete',
      csi: { driver: overrides.driver ?? ONTAP_DRIVER, volumeHandle: 'pvc-u1' },
    },
    status: { phase: overrides.phase ?? 'Released' },
  };
}

describe('when the provisioner deletes a volume', () => {
  it('a Released PV with reclaim Delete of our driver', () => {
    expect(volumeShouldBeDeleted(pv({}), ONTAP_DRIVER)).toBe(true);
    expect(volumeShouldBeDeleted(pv({ deleting: true }), ONTAP_DRIVER)).toBe(true);
  });

  it('not Bound or Retain PVs, nor PVs of other drivers', () => {
    expect(volumeShouldBeDeleted(pv({ phase: 'Bound' }), ONTAP_DRIVER)).toBe(false);
    expect(volumeShouldBeDeleted(pv({ reclaim: 'Retain' }), ONTAP_DRIVER)).toBe(false);
    expect(volumeShouldBeDeleted(pv({ driver: LONGHORN_DRIVER }), ONTAP_DRIVER)).toBe(false);
    expect(volumeShouldBeDeleted(pv({ provisionedBy: LONGHORN_DRIVER }), ONTAP_DRIVER)).toBe(false);
  });

  it('not again once our finalizer is gone from a PV being deleted', () => {
    expect(volumeShouldBeDeleted(pv({ deleting: true, finalizers: ['kubernetes.io/pv-protection'] }), ONTAP_DRIVER)).toBe(false);
  });
});
