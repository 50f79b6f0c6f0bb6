import {
  SNAPSHOT_API_VERSION,
  type DeletionPolicy,
  type VolumeSnapshot,
  type VolumeSnapshotContent,
} from './snapshot-api';
import { formatBinaryQuantity } from '../kube/quantity';
import { BACKUP_NAME_LABEL, backupLabelValue } from '../velero/labels';
import {
  CSI_DRIVER_NAME_ANNOTATION,
  DELETION_SECRET_NAME_ANNOTATION,
  DELETION_SECRET_NAMESPACE_ANNOTATION,
  MUST_INCLUDE_ADDITIONAL_ITEMS_ANNOTATION,
  VOLUME_SNAPSHOT_HANDLE_ANNOTATION,
  VOLUME_SNAPSHOT_NAME_KEY,
  VOLUME_SNAPSHOT_RESTORE_SIZE_ANNOTATION,
  VSC_DELETION_POLICY_ANNOTATION,
} from '../velero/labels';

/**
 * What Velero's CSI backup actions (pvc_action.go, volumesnapshot_action.go,
 * volumesnapshotcontent_action.go) put into a backup for a CSI snapshot, as pure
 * functions; restore reads the same annotations back.
 */


/**
 * The annotations Velero puts on a VolumeSnapshot once its content is known; restore
 * builds a static content from them (handle and driver), so they must be in the backup.
 */
export function volumeSnapshotAnnotations(content: VolumeSnapshotContent): Record<string, string> {
  const annotations: Record<string, string> = { [VSC_DELETION_POLICY_ANNOTATION]: content.spec.deletionPolicy };
  const handle = content.status?.snapshotHandle;
  if (handle !== undefined) {
    annotations[VOLUME_SNAPSHOT_HANDLE_ANNOTATION] = handle;
    annotations[CSI_DRIVER_NAME_ANNOTATION] = content.spec.driver;
  }
  const size = content.status?.restoreSize;
  if (size !== undefined) annotations[VOLUME_SNAPSHOT_RESTORE_SIZE_ANNOTATION] = formatBinaryQuantity(size);
  return annotations;
}

/**
 * A VolumeSnapshot as Velero writes it into the tarball: without its class, so a
 * restore does not depend on the class existing in the target cluster, and marked so
 * that its content and class are restored with it.
 */
export function volumeSnapshotBackupItem(snapshot: VolumeSnapshot): VolumeSnapshot {
  const item = structuredClone(snapshot);
  delete item.spec.volumeSnapshotClassName;
  item.metadata.annotations = { ...item.metadata.annotations, [MUST_INCLUDE_ADDITIONAL_ITEMS_ANNOTATION]: 'true' };
  return item;
}

/** A Secret a content names for deleting its snapshot; it belongs in the backup too. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** The Secret the driver needs to delete a content's snapshot, when its class named one. */
export function deletionSecretOf(content: Pick<VolumeSnapshotContent, 'metadata'>): SecretRef | undefined {
  const name = content.metadata.annotations?.[DELETION_SECRET_NAME_ANNOTATION];
  const namespace = content.metadata.annotations?.[DELETION_SECRET_NAMESPACE_ANNOTATION];
  return name && namespace ? { namespace, name } : undefined;
}

/**
 * A VolumeSnapshotContent as Velero writes it into the tarball: unchanged, except that
 * one naming a deletion Secret is marked so that the Secret is restored with it.
 */
export function volumeSnapshotContentBackupItem(content: VolumeSnapshotContent): VolumeSnapshotContent {
  if (!deletionSecretOf(content)) return content;
  const item = structuredClone(content);
  item.metadata.annotations = { ...item.metadata.annotations, [MUST_INCLUDE_ADDITIONAL_ITEMS_ANNOTATION]: 'true' };
  return item;
}

/** Labels and annotations to add to a PVC object in the backup. */
export interface MetadataAdditions {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * What Velero adds to a snapshotted PVC in the tarball: the name of its VolumeSnapshot
 * (restore creates the PVC from it) and the backup's name.
 */
export function pvcBackupAdditions(volumeSnapshotName: string, backupName: string): MetadataAdditions {
  return {
    labels: { [VOLUME_SNAPSHOT_NAME_KEY]: volumeSnapshotName, [BACKUP_NAME_LABEL]: backupLabelValue(backupName) },
    annotations: { [VOLUME_SNAPSHOT_NAME_KEY]: volumeSnapshotName, [MUST_INCLUDE_ADDITIONAL_ITEMS_ANNOTATION]: 'true' },
  };
}
