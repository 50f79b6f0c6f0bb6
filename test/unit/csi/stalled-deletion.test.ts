import { describe, expect, it } from 'vitest';
import { CONTENT_FINALIZER, type VolumeSnapshotContent } from '../../../lib/csi/snapshot-api';
import { BEING_CREATED_ANNOTATION, BEING_DELETED_ANNOTATION, beingDeletedPatch, deletionStalled } from '../../../lib/csi/stalled-deletion';
import { forVolumeSnapshot, forVolumeSnapshotContent } from '../../builders';

/** A content for VolumeSnapshot app/vs-1 (uid `uid-vs-1`), bound to it by uid unless `uid` is null. */
function content(fields: { deleting?: boolean; annotations?: Record<string, string>; preProvisioned?: boolean; uid?: string | null } = {}): VolumeSnapshotContent {
  const builder = forVolumeSnapshotContent('c1').driver('csi.trident.netapp.io').forSnapshot('app', 'vs-1').handle('h1');
  if (fields.preProvisioned) builder.staticHandle('h1');
  if (fields.annotations) builder.annotations(fields.annotations);
  if (fields.deleting !== false) builder.deleting(CONTENT_FINALIZER);
  const c = builder.result();
  if (fields.uid !== null) c.spec.volumeSnapshotRef = { ...c.spec.volumeSnapshotRef, uid: fields.uid ?? 'uid-vs-1' };
  return c;
}

const claim = forVolumeSnapshot('app', 'vs-1').boundTo('c1').result();
const otherWithSameName = { ...claim, metadata: { ...claim.metadata, uid: 'uid-new' } };

describe('Function: deletionStalled', () => {
  it.each([
    { case: 'being deleted, no annotation, its VolumeSnapshot gone', content: content(), snapshots: [], stalled: true },
    { case: 'the same, pre-provisioned but bound (the ref has a uid)', content: content({ preProvisioned: true }), snapshots: [], stalled: true },
    { case: 'a VolumeSnapshot of that name with another uid is not its claim', content: content(), snapshots: [otherWithSameName], stalled: true },
    { case: 'being deleted with the being-deleted annotation (the sidecar acts)', content: content({ annotations: { [BEING_DELETED_ANNOTATION]: 'yes' } }), snapshots: [], stalled: false },
    { case: 'a CreateSnapshot call in flight (never to be cut short)', content: content({ annotations: { [BEING_CREATED_ANNOTATION]: 'yes' } }), snapshots: [], stalled: false },
    { case: 'its VolumeSnapshot still there (the snapshot-controller is on it)', content: content(), snapshots: [claim], stalled: false },
    { case: 'unbound pre-provisioned (the sidecar deletes it without the annotation)', content: content({ preProvisioned: true, uid: null }), snapshots: [], stalled: false },
    { case: 'not being deleted', content: content({ deleting: false }), snapshots: [], stalled: false },
  ])('$case: $stalled', ({ content, snapshots, stalled }) => {
    expect(deletionStalled(content, snapshots)).toBe(stalled);
  });
});

describe('Function: beingDeletedPatch', () => {
  it('sets the annotation as the snapshot-controller does, leaving the others (a merge patch)', () => {
    expect(beingDeletedPatch()).toEqual({ metadata: { annotations: { [BEING_DELETED_ANNOTATION]: 'yes' } } });
  });
});
