import type { VolumeSnapshot, VolumeSnapshotContent } from './snapshot-api';

/**
 * Whether the snapshot-controller sees a VolumeSnapshot and a content bound to each
 * other: the VolumeSnapshot's status names the content, and the content's
 * volumeSnapshotRef names the VolumeSnapshot by namespace, name and uid. The controller
 * binds the content first and writes the VolumeSnapshot's status after, in two updates.
 * Only when both are written does deleting the VolumeSnapshot delete a content whose
 * deletionPolicy is Delete; a VolumeSnapshot deleted in between loses its finalizers
 * and leaves the content bound to nothing, its storage snapshot kept.
 * Source: external-snapshotter v8 pkg/common-controller/snapshot_controller.go
 * (processSnapshotWithDeletionTimestamp, "binding should always be bi-directional")
 * and pkg/utils/util.go (IsVolumeSnapshotRefSet).
 */
export function isBoundBothWays(snapshot: VolumeSnapshot, content: VolumeSnapshotContent): boolean {
  const ref = content.spec.volumeSnapshotRef ?? {};
  return (
    snapshot.status?.boundVolumeSnapshotContentName === content.metadata.name &&
    ref.namespace === snapshot.metadata.namespace &&
    ref.name === snapshot.metadata.name &&
    ref.uid !== undefined &&
    ref.uid === snapshot.metadata.uid
  );
}
