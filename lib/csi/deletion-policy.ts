import type { DeletionPolicy, VolumeSnapshotContent } from './snapshot-api';
import { backupLabelValue, BACKUP_NAME_LABEL, ORIGINAL_DELETION_POLICY_ANNOTATION } from '../velero/labels';

/**
 * A content's deletionPolicy decides whether deleting it frees the storage snapshot
 * (Delete) or keeps it (Retain). Backup sets Retain for the backup's life; expiry sets
 * Delete again before it deletes; both as merge patches built here.
 */

/** A JSON merge patch (RFC 7386) body. */
export type MergePatch = Record<string, unknown>;

/**
 * The patch that makes a content belong to the backup: the backup label (so expiry
 * and rediscovery find it) and deletionPolicy Retain, so that the storage snapshot
 * outlives its VolumeSnapshot, its namespace, even the cluster's snapshot objects,
 * until the backup expires. The policy the class gave it is recorded for expiry.
 */
export function retainContentPatch(classPolicy: DeletionPolicy, backupName: string): MergePatch {
  return {
    metadata: {
      labels: { [BACKUP_NAME_LABEL]: backupLabelValue(backupName) },
      annotations: { [ORIGINAL_DELETION_POLICY_ANNOTATION]: classPolicy },
    },
    spec: { deletionPolicy: 'Retain' satisfies DeletionPolicy },
  };
}

/** The patch that hands a content's storage snapshot back to the driver for deletion. */
export function deleteContentPatch(): MergePatch {
  return { spec: { deletionPolicy: 'Delete' satisfies DeletionPolicy } };
}

/**
 * The patch a failed snapshot's content gets when its backup lets it go: deletionPolicy
 * Delete, and the backup label its VolumeSnapshot carries (`backupLabel`, the label's
 * value as is). The snapshot-controller normally deletes the content with its
 * VolumeSnapshot; one that never does (external-snapshotter v8.7.0 stops acting on a
 * content after a create whose answer was lost: it caches the object without a
 * resourceVersion) would leave it, and its storage snapshot, to no backup. Labelled,
 * the content stays the backup's, and the backup's expiry frees it.
 */
export function discardContentPatch(backupLabel: string | undefined): MergePatch {
  return backupLabel === undefined ? deleteContentPatch() : { metadata: { labels: { [BACKUP_NAME_LABEL]: backupLabel } }, ...deleteContentPatch() };
}

/** The deletion policy a content had before Skiff retained it. */
export function originalDeletionPolicy(content: Pick<VolumeSnapshotContent, 'metadata' | 'spec'>): DeletionPolicy {
  const recorded = content.metadata.annotations?.[ORIGINAL_DELETION_POLICY_ANNOTATION];
  return recorded === 'Delete' || recorded === 'Retain' ? recorded : content.spec.deletionPolicy;
}
