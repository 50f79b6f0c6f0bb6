import { isBoundBothWays } from '../csi/binding';
import { CONTENT_FINALIZER, type VolumeSnapshot, type VolumeSnapshotContent } from '../csi/snapshot-api';

/** The VolumeSnapshot whose deletion is to free the content, as last listed (undefined: gone). */
export interface Claim {
  snapshot: VolumeSnapshot | undefined;
}

/**
 * Whether deleting what frees a content (the content itself, or the claim given) now
 * makes the driver delete its snapshot: the driver confirmed the snapshot
 * (status.snapshotHandle), the snapshot-controller holds the content with its
 * finalizer, and a claim is bound to the content both ways (csi/binding.ts; deleted a
 * moment sooner, it would go alone and leave the content bound to nothing). A content
 * already gone, or with nothing to free (a failed cut, a handle the driver does not
 * have), may go as it is; so may a claim already gone, or one that will never bind.
 */
export function readyToDelete(content: VolumeSnapshotContent | undefined, claim?: Claim): boolean {
  if (!content) return true;
  if (!content.status?.snapshotHandle) return content.status?.error !== undefined || !content.spec.source?.snapshotHandle;
  if (!((content.metadata.finalizers as string[] | undefined) ?? []).includes(CONTENT_FINALIZER)) return false;
  return !claim?.snapshot || isBoundBothWays(claim.snapshot, content) || neverBinds(claim.snapshot, content);
}

/**
 * The snapshot-controller binds a VolumeSnapshot only to a content whose ref has no uid
 * or its own, and never binds one already bound to another content. Deleting such a
 * claim frees nothing, as before it was waited for; the next run finds the content
 * unclaimed and claims it anew (plan-deletion.ts), so waiting here would only stall.
 */
function neverBinds(snapshot: VolumeSnapshot, content: VolumeSnapshotContent): boolean {
  const refUid = content.spec.volumeSnapshotRef?.uid;
  const bound = snapshot.status?.boundVolumeSnapshotContentName;
  return (refUid !== undefined && refUid !== '' && refUid !== snapshot.metadata.uid) || (bound !== undefined && bound !== content.metadata.name);
}
