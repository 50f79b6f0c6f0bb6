import { describe, expect, it } from 'vitest';
import { CONTENT_FINALIZER, type VolumeSnapshot, type VolumeSnapshotContent } from '../../../lib/csi/snapshot-api';
import { readyToDelete } from '../../../lib/expiry/ready-to-delete';

const UID = 'b6f1c2d4-0000-4000-8000-000000000001';

function content(fields: { handle?: string; finalizer?: boolean; refUid?: string; error?: boolean; source?: 'snapshot' | 'volume' } = {}): VolumeSnapshotContent {
  const { handle = 'snap-1', finalizer = true, refUid = UID, error = false, source = 'snapshot' } = fields;
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotContent',
    metadata: { name: 'skiff-expiry-1', ...(finalizer ? { finalizers: [CONTENT_FINALIZER] } : {}) },
    spec: {
      deletionPolicy: 'Delete',
      driver: 'driver.longhorn.io',
      source: source === 'snapshot' ? { snapshotHandle: 'snap-1' } : { volumeHandle: 'vol-1' },
      volumeSnapshotRef: { namespace: 'default', name: 'skiff-expiry-1', ...(refUid ? { uid: refUid } : {}) },
    },
    ...(handle || error ? { status: { ...(handle ? { snapshotHandle: handle } : {}), ...(error ? { error: { message: 'refused' } } : {}) } } : {}),
  } as VolumeSnapshotContent;
}

function snapshot(bound: string | undefined, uid = UID): VolumeSnapshot {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: 'skiff-expiry-1', namespace: 'default', uid },
    spec: { source: { volumeSnapshotContentName: 'skiff-expiry-1' } },
    ...(bound ? { status: { boundVolumeSnapshotContentName: bound } } : {}),
  };
}

describe('Function: readyToDelete', () => {
  it.each([
    { case: 'content gone', content: undefined, claim: undefined, ready: true },
    { case: 'confirmed and held, deleted by itself', content: content(), claim: undefined, ready: true },
    { case: 'not yet held by the snapshot-controller', content: content({ finalizer: false }), claim: undefined, ready: false },
    { case: 'handle not yet confirmed by the driver', content: content({ handle: '' }), claim: undefined, ready: false },
    { case: 'the driver refused the handle (nothing to free)', content: content({ handle: '', error: true }), claim: undefined, ready: true },
    { case: 'a failed cut (no handle to free)', content: content({ handle: '', source: 'volume' }), claim: undefined, ready: true },
    { case: 'claim bound both ways', content: content(), claim: { snapshot: snapshot('skiff-expiry-1') }, ready: true },
    { case: 'claim whose status does not name the content yet', content: content(), claim: { snapshot: snapshot(undefined) }, ready: false },
    { case: 'claim bound to another content (never binds it)', content: content(), claim: { snapshot: snapshot('other') }, ready: true },
    { case: 'content whose ref has no uid yet', content: content({ refUid: '' }), claim: { snapshot: snapshot('skiff-expiry-1') }, ready: false },
    { case: 'content whose ref has a gone claim\'s uid (never binds)', content: content({ refUid: 'gone' }), claim: { snapshot: snapshot(undefined) }, ready: true },
    { case: 'claim already gone', content: content(), claim: { snapshot: undefined }, ready: true },
  ])('$case: $ready', ({ content, claim, ready }) => {
    expect(readyToDelete(content, claim)).toBe(ready);
  });
});
