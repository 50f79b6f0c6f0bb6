import type { MergePatch } from './deletion-policy';
import type { VolumeSnapshot, VolumeSnapshotContent } from './snapshot-api';

/** Set by the snapshot-controller before it deletes a bound content; the CSI sidecar deletes only contents that carry it (or unbound pre-provisioned ones). */
export const BEING_DELETED_ANNOTATION = 'snapshot.storage.kubernetes.io/volumesnapshot-being-deleted';

/** Set by the CSI sidecar while a CreateSnapshot call is in flight; the content must not be deleted then. */
export const BEING_CREATED_ANNOTATION = 'snapshot.storage.kubernetes.io/volumesnapshot-being-created';

/**
 * Whether a content being deleted waits for an annotation that nobody will set. The
 * CSI sidecar deletes a bound content (and its storage snapshot, under deletionPolicy
 * Delete) only once it carries `volumesnapshot-being-deleted` (sidecar shouldDelete);
 * the snapshot-controller sets that while it deletes the VolumeSnapshot. In v8.7.0 it
 * writes the annotation into its cached copy before the PATCH, so a PATCH that fails
 * (an API server restarting, throttling) leaves the cache saying it is set: the retry
 * deletes the content without it, removes the VolumeSnapshot, and the content stays
 * with its finalizer forever, the storage snapshot with it. Stalled: being deleted,
 * neither annotation, not an unbound pre-provisioned content (deleted without it), and
 * the VolumeSnapshot its ref names (by uid when it has one) is gone, so no controller
 * will look at it again.
 * Source: external-snapshotter v8.7.0 pkg/sidecar-controller/snapshot_controller.go
 * (shouldDelete), pkg/common-controller/snapshot_controller.go
 * (setAnnVolumeSnapshotBeingDeleted); the leak is external-snapshotter PR #1446.
 *
 * @param snapshots every VolumeSnapshot of the content's cluster (one LIST)
 */
export function deletionStalled(content: VolumeSnapshotContent, snapshots: readonly VolumeSnapshot[]): boolean {
  if (content.metadata.deletionTimestamp === undefined) return false;
  const annotations = content.metadata.annotations ?? {};
  if (annotations[BEING_DELETED_ANNOTATION] !== undefined || annotations[BEING_CREATED_ANNOTATION] !== undefined) return false;
  const ref = content.spec.volumeSnapshotRef ?? {};
  if (content.spec.source?.snapshotHandle !== undefined && !ref.uid) return false;
  const claim = snapshots.find((s) => s.metadata.namespace === ref.namespace && s.metadata.name === ref.name && (!ref.uid || s.metadata.uid === ref.uid));
  return claim === undefined;
}

/** The merge patch that sets `volumesnapshot-being-deleted` as the snapshot-controller would. */
export function beingDeletedPatch(): MergePatch {
  return { metadata: { annotations: { [BEING_DELETED_ANNOTATION]: 'yes' } } };
}
