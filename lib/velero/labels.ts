/**
 * Labels and annotations Velero's CSI actions put on PVCs and VolumeSnapshots
 * (pkg/apis/velero/v1/labels_annotations.go). Velero's restore reads them from the
 * backup, so Skiff writes them under the same keys.
 */

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
