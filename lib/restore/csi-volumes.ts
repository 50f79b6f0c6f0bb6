import { createHash } from 'node:crypto';
import { staticContentFor, staticVolumeSnapshotFor, type NewStaticVolumeSnapshot, type NewVolumeSnapshotContent } from '../csi/builders';
import { checkHandle } from '../csi/handles';
import { snapshotClassForDriver, type VolumeSnapshotClassLike } from '../csi/snapshot-class';
import type { VolumeSnapshot, VolumeSnapshotContent } from '../csi/snapshot-api';
import {
  BACKUP_NAME_LABEL,
  CSI_DRIVER_NAME_ANNOTATION,
  RESTORE_NAME_LABEL,
  VOLUME_SNAPSHOT_HANDLE_ANNOTATION,
  VOLUME_SNAPSHOT_NAME_KEY,
  VOLUME_SNAPSHOT_RESTORE_SIZE_ANNOTATION,
  backupLabelValue,
  restoreLabelValue,
} from '../velero/labels';

/**
 * How a PVC backed by a CSI snapshot is restored, as Velero's CSI restore actions do it
 * (pkg/restore/actions/csi/pvc_action.go, volumesnapshot_action.go,
 * volumesnapshotcontent_action.go): a static VolumeSnapshotContent with the stored
 * `snapshotHandle` and `deletionPolicy: Retain`, a VolumeSnapshot bound to it by name,
 * both named from the restore's uid and the backed-up VolumeSnapshot's name, and the
 * PVC with `dataSource` to that VolumeSnapshot. The backed-up VolumeSnapshot and
 * content (in the source namespace and cluster) are never touched.
 */

/** The name of a restored VolumeSnapshot and its content (Velero's GenerateSha256FromRestoreUIDAndVsName). */
export function restoredSnapshotName(restoreUid: string, volumeSnapshotName: string): string {
  return createHash('sha256').update(`${restoreUid}/${volumeSnapshotName}`).digest('hex');
}

/** The name of the backed-up VolumeSnapshot holding a PVC's data, or undefined for a PVC without one. */
export function snapshotNameOf(pvc: { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> } }): string | undefined {
  return pvc.metadata?.annotations?.[VOLUME_SNAPSHOT_NAME_KEY] ?? pvc.metadata?.labels?.[VOLUME_SNAPSHOT_NAME_KEY];
}

/** What the target cluster offers for CSI snapshots (one LIST each, read once per restore). */
export interface TargetSnapshotSupport {
  classes: readonly VolumeSnapshotClassLike[];
  /** Names of the CSIDriver objects; undefined when they could not be read. */
  drivers: ReadonlySet<string> | undefined;
}

export interface SnapshotRestoreInput {
  restoreName: string;
  restoreUid: string;
  backupName: string;
  /** `namespace/name` of the PVC in the backup. */
  pvc: string;
  targetNamespace: string;
  volumeSnapshotName: string;
  /** The backed-up VolumeSnapshot, from the tarball or the stored CSI list. */
  volumeSnapshot: VolumeSnapshot | undefined;
  /** Backed-up contents by name, for the handle when the VolumeSnapshot's annotations lack it. */
  contents: ReadonlyMap<string, VolumeSnapshotContent>;
  target: TargetSnapshotSupport;
  targetCluster: string;
}

export type SnapshotRestorePlan =
  | {
      kind: 'snapshot';
      name: string;
      content: NewVolumeSnapshotContent;
      snapshot: NewStaticVolumeSnapshot;
      driver: string;
      snapshotHandle: string;
      /** The snapshot's restore size (a quantity), when the backup recorded it. */
      restoreSize?: string;
    }
  | { kind: 'error'; message: string };

/** Where the storage snapshot is: the VolumeSnapshot's annotations, else its backed-up content's status. */
function handleAndDriver(input: SnapshotRestoreInput): { handle?: string; driver?: string } {
  const annotations = input.volumeSnapshot?.metadata.annotations ?? {};
  const contentName = input.volumeSnapshot?.status?.boundVolumeSnapshotContentName;
  const content = contentName ? input.contents.get(contentName) : undefined;
  return {
    handle: annotations[VOLUME_SNAPSHOT_HANDLE_ANNOTATION] ?? content?.status?.snapshotHandle,
    driver: annotations[CSI_DRIVER_NAME_ANNOTATION] ?? content?.spec.driver,
  };
}

/**
 * Plans the restore of one PVC from its snapshot, or says why it cannot be: an error
 * for that PVC (not for the restore), naming the PVC and what to do.
 */
export function planSnapshotRestore(input: SnapshotRestoreInput): SnapshotRestorePlan {
  const what = `PVC ${input.pvc}`;
  if (!input.volumeSnapshot) {
    return { kind: 'error', message: `${what}: its VolumeSnapshot ${input.volumeSnapshotName} is not in the backup, so its data cannot be restored` };
  }
  const { handle, driver } = handleAndDriver(input);
  if (!handle || !driver) {
    return {
      kind: 'error',
      message: `${what}: VolumeSnapshot ${input.volumeSnapshotName} has no snapshot handle or driver in the backup (the snapshot was never ready)`,
    };
  }
  const verdict = checkHandle(driver, handle);
  if (verdict.kind === 'malformed' || verdict.kind === 'wrong') {
    return { kind: 'error', message: `${what}: snapshot handle ${JSON.stringify(handle)} of driver ${driver} is unusable: ${verdict.reason}` };
  }
  if (input.target.drivers && !input.target.drivers.has(driver)) {
    return {
      kind: 'error',
      message: `${what}: CSI driver ${driver} is not installed in cluster "${input.targetCluster}" (no CSIDriver object); install it, or restore into a cluster that has it`,
    };
  }
  const chosen = snapshotClassForDriver(driver, input.target.classes).snapshotClass ?? input.target.classes.find((c) => c.driver === driver);
  if (!chosen) {
    return {
      kind: 'error',
      message: `${what}: cluster "${input.targetCluster}" has no VolumeSnapshotClass of driver ${driver}; create one, then restore this PVC again`,
    };
  }
  const name = restoredSnapshotName(input.restoreUid, input.volumeSnapshotName);
  const labels = { [BACKUP_NAME_LABEL]: backupLabelValue(input.backupName), [RESTORE_NAME_LABEL]: restoreLabelValue(input.restoreName) };
  const restoreSize = input.volumeSnapshot.metadata.annotations?.[VOLUME_SNAPSHOT_RESTORE_SIZE_ANNOTATION] ?? input.volumeSnapshot.status?.restoreSize;
  return {
    kind: 'snapshot',
    name,
    driver,
    snapshotHandle: handle,
    ...(restoreSize ? { restoreSize } : {}),
    content: staticContentFor({
      name,
      driver,
      snapshotHandle: handle,
      deletionPolicy: 'Retain',
      volumeSnapshotRef: { namespace: input.targetNamespace, name },
      volumeSnapshotClassName: chosen.metadata.name,
      labels,
    }),
    snapshot: staticVolumeSnapshotFor({ namespace: input.targetNamespace, name, contentName: name, labels }),
  };
}
