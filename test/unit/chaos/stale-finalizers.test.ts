import { describe, expect, it } from 'vitest';
import { PVC_SOURCE_FINALIZER, type VolumeSnapshot } from '../../../lib/csi/snapshot-api';
import type { KubeObject } from '../../../lib/kube/list-all';
import { removeFinalizerPatch, staleSourceFinalizers } from '../../chaos/stale-finalizers';

function claim(name: string, finalizers: string[]): KubeObject {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', finalizers } };
}

function snapshot(pvc: string | undefined, readyToUse: boolean | undefined): VolumeSnapshot {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: `vs-${pvc}`, namespace: 'ns' },
    spec: { source: pvc ? { persistentVolumeClaimName: pvc } : { volumeSnapshotContentName: 'c' } },
    ...(readyToUse === undefined ? {} : { status: { readyToUse } }),
  };
}

const PROTECTION = 'kubernetes.io/pvc-protection';

describe('Function: staleSourceFinalizers', () => {
  it.each([
    { case: 'finalizer, no VolumeSnapshot left', claims: [claim('data', [PROTECTION, PVC_SOURCE_FINALIZER])], snapshots: [], stale: ['data'] },
    { case: 'finalizer, its VolumeSnapshot ready', claims: [claim('data', [PVC_SOURCE_FINALIZER])], snapshots: [snapshot('data', true)], stale: ['data'] },
    { case: 'finalizer, a VolumeSnapshot of it not ready', claims: [claim('data', [PVC_SOURCE_FINALIZER])], snapshots: [snapshot('data', false)], stale: [] },
    { case: 'finalizer, a VolumeSnapshot of it without status', claims: [claim('data', [PVC_SOURCE_FINALIZER])], snapshots: [snapshot('data', undefined)], stale: [] },
    { case: 'finalizer, only another claim in creation', claims: [claim('data', [PVC_SOURCE_FINALIZER])], snapshots: [snapshot('other', false)], stale: ['data'] },
    { case: 'no such finalizer', claims: [claim('data', [PROTECTION])], snapshots: [], stale: [] },
    { case: 'a static VolumeSnapshot not ready', claims: [claim('data', [PVC_SOURCE_FINALIZER])], snapshots: [snapshot(undefined, false)], stale: ['data'] },
  ])('$case: $stale', ({ claims, snapshots, stale }) => {
    expect(staleSourceFinalizers(claims, snapshots)).toEqual(stale);
  });
});

describe('Function: removeFinalizerPatch', () => {
  it('tests the finalizer at its index before removing it, so a changed list fails the patch', () => {
    expect(removeFinalizerPatch(claim('data', [PROTECTION, PVC_SOURCE_FINALIZER]), PVC_SOURCE_FINALIZER)).toEqual([
      { op: 'test', path: '/metadata/finalizers/1', value: PVC_SOURCE_FINALIZER },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
  });

  it('is empty when the claim does not hold it', () => {
    expect(removeFinalizerPatch(claim('data', [PROTECTION]), PVC_SOURCE_FINALIZER)).toEqual([]);
  });
});
