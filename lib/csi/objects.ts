import {
  SNAPSHOT_API_VERSION,
  type DeletionPolicy,
  type VolumeSnapshot,
  type VolumeSnapshotContent,
} from './snapshot-api';
import { formatBinaryQuantity } from '../kube/quantity';
import { BACKUP_NAME_LABEL } from '../velero/labels';
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
import { validLabelValue } from '../velero/names';
import { ORIGINAL_DELETION_POLICY_ANNOTATION } from '../velero/labels';

/**
 * The objects and patches a CSI snapshot of a backup is made of, as pure functions:
 * what Velero's CSI actions (pvc_action.go, volumesnapshot_action.go,
 * volumesnapshotcontent_action.go) create, patch and put into the backup.
 */


/** The label value that marks objects of a backup (Velero's label.GetValidName). */
function backupLabelValue(backupName: string): string {
  return validLabelValue(backupName);
}

/** The selector that finds every object labelled for a backup. */
export function backupLabelSelector(backupName: string): string {
  return `${BACKUP_NAME_LABEL}=${backupLabelValue(backupName)}`;
}

/** A VolumeSnapshot's labels: the PVC's, plus the backup's name (which wins over a PVC label of that key). */
export function volumeSnapshotLabels(pvcLabels: Record<string, string> | undefined, backupName: string): Record<string, string> {
  return { ...pvcLabels, [BACKUP_NAME_LABEL]: backupLabelValue(backupName) };
}

/** The source PVC of a snapshot, as far as the objects need it. */
export interface SnapshotSource {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

/** A VolumeSnapshot to create: the API server names it from `generateName`. */
export interface NewVolumeSnapshot extends Pick<VolumeSnapshot, 'apiVersion' | 'kind' | 'spec'> {
  metadata: { generateName: string; namespace: string; labels: Record<string, string> };
}

/**
 * The VolumeSnapshot Velero creates for a PVC: `velero-<pvc>-<random>` in the PVC's
 * namespace, the PVC's labels plus the backup's, the chosen class, the PVC as source.
 */
export function volumeSnapshotFor(pvc: SnapshotSource, snapshotClassName: string, backupName: string): NewVolumeSnapshot {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: {
      generateName: `velero-${pvc.name}-`,
      namespace: pvc.namespace,
      labels: volumeSnapshotLabels(pvc.labels, backupName),
    },
    spec: {
      source: { persistentVolumeClaimName: pvc.name },
      volumeSnapshotClassName: snapshotClassName,
    },
  };
}

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

/** The deletion policy a content had before Skiff retained it. */
export function originalDeletionPolicy(content: Pick<VolumeSnapshotContent, 'metadata' | 'spec'>): DeletionPolicy {
  const recorded = content.metadata.annotations?.[ORIGINAL_DELETION_POLICY_ANNOTATION];
  return recorded === 'Delete' || recorded === 'Retain' ? recorded : content.spec.deletionPolicy;
}

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
