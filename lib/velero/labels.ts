import { validLabelValue } from './names';

/**
 * Every velero.io/* and skiff.io/* label and annotation key Skiff reads or writes, in
 * one place. Velero's come from pkg/apis/velero/v1/labels_annotations.go: Velero's
 * server and restore read them, so Skiff uses the same keys.
 */

// --- On Backup objects.
/** Label on every Backup naming its storage location (shortened by validLabelValue). */
export const STORAGE_LOCATION_LABEL = 'velero.io/storage-location';
/** Label on backups created by a schedule, naming the schedule. */
export const SCHEDULE_NAME_LABEL = 'velero.io/schedule-name';
/** Label Velero puts on objects it creates for a backup (VolumeSnapshots, ...). */
export const BACKUP_NAME_LABEL = 'velero.io/backup-name';
/** Label Velero puts on every object a restore creates, naming the restore (label.GetValidName). */
export const RESTORE_NAME_LABEL = 'velero.io/restore-name';
/** Objects (and namespaces) labelled with this set to "true" are left out of backups. */
export const EXCLUDE_FROM_BACKUP_LABEL = 'velero.io/exclude-from-backup';

/** Annotations Velero adds to a backup so restores can detect version skew. */
export const SOURCE_CLUSTER_GIT_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-gitversion';
export const SOURCE_CLUSTER_MAJOR_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-major-version';
export const SOURCE_CLUSTER_MINOR_VERSION_ANNOTATION = 'velero.io/source-cluster-k8s-minor-version';
export const RESOURCE_TIMEOUT_ANNOTATION = 'velero.io/resource-timeout';

/** Label naming the cluster a backup was taken of (Velero's own labels do not say). */
export const CLUSTER_LABEL = 'skiff.io/cluster';
/**
 * On a Backup: `all` writes every served version of each type, as Velero does with its
 * EnableAPIGroupVersions feature flag (a server-wide flag there; per backup here,
 * without a change to the Backup spec). `preferred` (or no annotation) is the default.
 */
export const API_GROUP_VERSIONS_ANNOTATION = 'skiff.io/api-group-versions';

// --- Deletion (expiry).
/** On a Backup the API shows as Deleting: why it is being deleted. */
export const DELETION_REASON_ANNOTATION = 'skiff.io/deletion-reason';
/** On a Backup the API shows as Deleting: what its deletion still waits on. */
export const DELETION_WAITING_ON_ANNOTATION = 'skiff.io/deletion-waiting-on';
/**
 * On a VolumeSnapshotContent expiry created only to hand a stored snapshot back to its
 * driver for deletion (no content of it was left in any cluster).
 */
export const TEMPORARY_CONTENT_LABEL = 'skiff.io/expiry-temporary-content';

// --- Choosing a VolumeSnapshotClass (Velero's CSI plugin).
/** Annotation (on a PVC or StorageClass) and label (on a class) that choose a class. */
export const SNAPSHOT_CLASS_SELECTOR = 'velero.io/csi-volumesnapshot-class';
/** Prefix of the Backup annotation choosing a class per driver: `<prefix>_<driver>`. */
export const BACKUP_SNAPSHOT_CLASS_ANNOTATION_PREFIX = 'velero.io/csi-volumesnapshot-class';

/**
 * On a VolumeSnapshotContent Skiff set to Retain for the backup's life: the policy its
 * class gave it. Expiry reads it to know what the storage system was meant to do.
 */
export const ORIGINAL_DELETION_POLICY_ANNOTATION = 'skiff.io/original-deletion-policy';

/**
 * On a VolumeSnapshotContent that rediscovery made from a stored backup: the cluster
 * the snapshot was taken in (the backup's skiff.io/cluster label; "unknown" for a
 * backup written by Velero), so people see where a content in their cluster came from.
 */
export const SOURCE_CLUSTER_ANNOTATION = 'skiff.io/source-cluster';
/** On such a content: the storage location whose backup it was made from. */
export const SOURCE_STORAGE_LOCATION_ANNOTATION = 'skiff.io/source-storage-location';
/** On such a content: the name of the stored VolumeSnapshotContent it stands for. */
export const SOURCE_CONTENT_ANNOTATION = 'skiff.io/source-volumesnapshotcontent';

/**
 * On a content whose snapshot handle was wrong and that rediscovery retired: the content
 * made in its place with the right handle. The retired content keeps deletionPolicy
 * Retain and loses its backup label, so expiry never asks the driver to delete a
 * snapshot through a wrong handle.
 */
export const REPLACED_BY_ANNOTATION = 'skiff.io/replaced-by';
/** On the content made in its place: the retired content it replaces. */
export const REPLACES_ANNOTATION = 'skiff.io/replaces';
/** On such a retired content: the backup label value it had. */
export const RETIRED_BACKUP_ANNOTATION = 'skiff.io/retired-from-backup';

// --- On PVCs and VolumeSnapshots (Velero's CSI actions).

/** On a backed-up PVC (label and annotation): the VolumeSnapshot holding its data. */
export const VOLUME_SNAPSHOT_NAME_KEY = 'velero.io/volume-snapshot-name';
/** On a backed-up VolumeSnapshot: its content's status.snapshotHandle. */
export const VOLUME_SNAPSHOT_HANDLE_ANNOTATION = 'velero.io/csi-volumesnapshot-handle';
/** On a backed-up VolumeSnapshot: its content's restore size, as a quantity. */
export const VOLUME_SNAPSHOT_RESTORE_SIZE_ANNOTATION = 'velero.io/csi-volumesnapshot-restore-size';
/** On a backed-up VolumeSnapshot: the CSI driver that cut it. */
export const CSI_DRIVER_NAME_ANNOTATION = 'velero.io/csi-driver-name';
/** On a backed-up VolumeSnapshot: its content's deletionPolicy. */
export const VSC_DELETION_POLICY_ANNOTATION = 'velero.io/csi-vsc-deletion-policy';
/** Tells Velero's restore to restore an item's additional items even when filters exclude them. */
export const MUST_INCLUDE_ADDITIONAL_ITEMS_ANNOTATION = 'backup.velero.io/must-include-additional-items';
/** On a VolumeSnapshotContent: the Secret the driver needs to delete the snapshot. */
export const DELETION_SECRET_NAME_ANNOTATION = 'snapshot.storage.kubernetes.io/deletion-secret-name';
/** See DELETION_SECRET_NAME_ANNOTATION. */
export const DELETION_SECRET_NAMESPACE_ANNOTATION = 'snapshot.storage.kubernetes.io/deletion-secret-namespace';

/** The label value that marks objects of a backup (Velero's label.GetValidName). */
export function backupLabelValue(backupName: string): string {
  return validLabelValue(backupName);
}

/** The selector that finds every object labelled for a backup. */
export function backupLabelSelector(backupName: string): string {
  return `${BACKUP_NAME_LABEL}=${backupLabelValue(backupName)}`;
}
/**
 * Harvester's opt-out (harvester/harvester, upgrade webhook): any non-empty value lets a
 * detached single-replica Longhorn volume through with a warning instead of a block.
 * Honoured on the Longhorn Volume and in a cluster's `annotations` in the configuration.
 */
export const SKIP_SINGLE_REPLICA_DETACHED_ANNOTATION = 'harvesterhci.io/skipSingleReplicaDetachedVol';

/** The label value that marks objects created by a restore (Velero's label.GetValidName). */
export function restoreLabelValue(restoreName: string): string {
  return validLabelValue(restoreName);
}

// --- Backup hooks declared on pods (Velero's internal/hook/item_hook_handler.go). Each key
// is written `pre.<key>` or `post.<key>`; the bare key is the legacy form of a pre hook.
// A hook exists only when its command is set. Skiff does not run hooks; a backup warns.
/** The command of a pod's backup hook: a string, or a JSON array of strings. */
export const BACKUP_HOOK_COMMAND_KEY = 'hook.backup.velero.io/command';
/** The container the hook runs in (default: the pod's first). */
export const BACKUP_HOOK_CONTAINER_KEY = 'hook.backup.velero.io/container';
/** `Continue` or `Fail`: whether a failed hook fails the pod's backup item. */
export const BACKUP_HOOK_ON_ERROR_KEY = 'hook.backup.velero.io/on-error';
/** How long the hook may run, a Go duration. */
export const BACKUP_HOOK_TIMEOUT_KEY = 'hook.backup.velero.io/timeout';
