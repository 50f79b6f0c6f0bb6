import type { DeletionPolicy, VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent } from '../csi/snapshot-api';
import { csiSnapshotVolumeInfo, failedVolumeInfo, skippedVolumeInfo, type BackupVolumeInfo, type VolumeInfoPv } from '../velero/volume-info';
import type { PersistentVolumeLike } from '../csi/plan';
import { deletionSecretOf, pvcBackupAdditions, type MetadataAdditions, type SecretRef } from '../csi/backup-items';
import { originalDeletionPolicy } from '../csi/deletion-policy';
import type { CsiSnapshotPlan, PvcRef, SnapshotSkipReason } from '../csi/plan';
import { addMessage, emptyResults, type BackupResults } from '../velero/results';

/**
 * What became of each PVC's CSI snapshot, and what a backup makes of that: its
 * warnings and errors, its CSI counters, its volume information and the snapshot
 * objects it stores. All pure.
 */

/** A snapshot that is ready, with the objects as they are in the cluster after Skiff's patches. */
export interface CompletedSnapshot {
  kind: 'completed';
  pvc: PvcRef;
  pvName: string;
  driver: string;
  snapshotClass: VolumeSnapshotClass;
  /** Labelled for the backup and annotated as Velero annotates it (handle, driver, policy, size). */
  volumeSnapshot: VolumeSnapshot;
  /** Labelled for the backup, deletionPolicy Retain, original policy annotated. */
  content: VolumeSnapshotContent;
  /** The policy the class gave the content; expiry restores it. */
  originalDeletionPolicy: DeletionPolicy;
  snapshotHandle: string;
  restoreSizeBytes: number | undefined;
  /** To add to the PVC object in the backup, so that restore finds its VolumeSnapshot. */
  pvcAdditions: MetadataAdditions;
  /** The Secret the driver needs to delete the snapshot, which the backup must hold too. */
  deletionSecret?: SecretRef;
  notes: string[];
  startedAt: Date;
  completedAt: Date;
  volumeInfo: BackupVolumeInfo;
}

/** A PVC that gets no snapshot, and why. */
export interface SkippedSnapshot {
  kind: 'skipped';
  pvc: PvcRef;
  reason: SnapshotSkipReason;
  /** Undefined when skipping is what the backup asked for. */
  warning?: string;
  /** Why, when skipping was asked for by a volume policy (named). */
  detail?: string;
  notes: string[];
  /** Every skipped PVC has one, PV or not, so that the backup accounts for each PVC in scope. */
  volumeInfo: BackupVolumeInfo;
}

/** A snapshot that was not taken; any VolumeSnapshot created for it has been deleted. */
export interface FailedSnapshot {
  kind: 'failed';
  pvc: PvcRef;
  /** `not-snapshottable`: a bound CSI volume for which no snapshot could even be asked (see leavesDataUnprotected). */
  reason: 'failed' | 'timed-out' | 'error' | 'not-snapshottable';
  /** Says what went wrong, and what is left to clean up by hand if anything is. */
  message: string;
  /** The VolumeSnapshot created for it, if one was. */
  volumeSnapshot?: { namespace: string; name: string; uid?: string };
  contentName?: string;
  /** The PV the snapshot was of, for the volume information. */
  pv?: PersistentVolumeLike;
  notes: string[];
}

/** What became of one PVC's snapshot. */
export type CsiSnapshotOutcome = CompletedSnapshot | SkippedSnapshot | FailedSnapshot;

/** What completedOutcome is made of: the plan, and the objects after Skiff's patches. */
export interface CompletedOutcomeInput {
  plan: Extract<CsiSnapshotPlan, { kind: 'snapshot' }>;
  volumeSnapshot: VolumeSnapshot;
  /** Must have its snapshot handle. */
  content: VolumeSnapshotContent;
  backupName: string;
  notes: string[];
  startedAt: Date;
  completedAt: Date;
}

/** The outcome of a snapshot that is ready and kept for the backup. */
export function completedOutcome(input: CompletedOutcomeInput): CompletedSnapshot {
  const { plan, volumeSnapshot, content, completedAt } = input;
  const snapshotHandle = content.status?.snapshotHandle ?? '';
  const pv = plan.pv;
  return {
    kind: 'completed',
    pvc: plan.pvc,
    pvName: pv.metadata.name,
    driver: plan.driver,
    snapshotClass: plan.snapshotClass,
    volumeSnapshot,
    content,
    originalDeletionPolicy: originalDeletionPolicy(content),
    snapshotHandle,
    restoreSizeBytes: content.status?.restoreSize,
    pvcAdditions: pvcBackupAdditions(volumeSnapshot.metadata.name, input.backupName),
    deletionSecret: deletionSecretOf(content),
    notes: input.notes,
    startedAt: input.startedAt,
    completedAt,
    volumeInfo: csiSnapshotVolumeInfo({
      pvcNamespace: plan.pvc.namespace,
      pvcName: plan.pvc.name,
      pv: { name: pv.metadata.name, reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy, labels: pv.metadata.labels },
      snapshotHandle,
      sizeBytes: content.status?.restoreSize ?? 0,
      driver: content.spec.driver,
      vscName: content.metadata.name,
      readyToUse: volumeSnapshot.status?.readyToUse,
      startTimestamp: volumeSnapshot.status?.creationTime,
      completedAt,
    }),
  };
}

/** The outcome of a PVC the plan skipped. */
export function skippedOutcome(plan: Extract<CsiSnapshotPlan, { kind: 'skip' }>): SkippedSnapshot {
  return {
    kind: 'skipped',
    pvc: plan.pvc,
    reason: plan.reason,
    warning: plan.warning,
    ...(plan.detail ? { detail: plan.detail } : {}),
    notes: plan.notes,
    volumeInfo: skippedVolumeInfo({
      pvcNamespace: plan.pvc.namespace,
      pvcName: plan.pvc.name,
      ...(plan.pv ? { pv: volumeInfoPv(plan.pv) } : {}),
      reason: plan.warning ?? plan.detail ?? skipReasonText(plan.reason),
    }),
  };
}

/** What the volume information keeps of a PV. */
export function volumeInfoPv(pv: PersistentVolumeLike): VolumeInfoPv {
  return { name: pv.metadata.name, reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy, labels: pv.metadata.labels };
}

/**
 * The outcome of a bound CSI PVC the plan could not snapshot (no snapshot API, no class
 * of its driver, several and none chosen): an error of its namespace, as Velero 1.18's
 * PVC action makes it, so the backup ends PartiallyFailed instead of Completed without
 * the volume's data.
 */
export function unsnapshottableOutcome(plan: Extract<CsiSnapshotPlan, { kind: 'skip' }>): FailedSnapshot {
  return {
    kind: 'failed',
    pvc: plan.pvc,
    ...(plan.pv ? { pv: plan.pv } : {}),
    reason: 'not-snapshottable',
    message: `could not snapshot ${plan.warning ?? `PVC ${plan.pvc.namespace}/${plan.pvc.name} (${plan.reason})`}; the volume's data is not in the backup`,
    notes: plan.notes,
  };
}

function skipReasonText(reason: SnapshotSkipReason): string {
  return reason === 'snapshots-disabled' ? 'the backup has snapshotVolumes set to false' : reason;
}

/**
 * The backup's warnings and errors from its snapshots, each in the PVC's namespace:
 * a skipped PVC is a warning, a failed snapshot an error (the backup ends
 * PartiallyFailed), and annotations naming unusable classes are warnings.
 */
export function csiSnapshotResults(outcomes: readonly CsiSnapshotOutcome[]): BackupResults {
  const results = emptyResults();
  for (const outcome of outcomes) {
    const namespace = outcome.pvc.namespace;
    for (const note of outcome.notes) addMessage(results.warnings, namespace, note);
    if (outcome.kind === 'skipped' && outcome.warning) addMessage(results.warnings, namespace, outcome.warning);
    if (outcome.kind === 'failed') addMessage(results.errors, namespace, outcome.message);
  }
  return results;
}

/** Velero's status.csiVolumeSnapshotsAttempted / Completed. */
export interface CsiSnapshotCounts {
  /** VolumeSnapshots created, whatever became of them. */
  attempted: number;
  /** Those that became ready. */
  completed: number;
}

/** Counts the snapshots a backup attempted and completed. */
export function countCsiSnapshots(outcomes: readonly CsiSnapshotOutcome[]): CsiSnapshotCounts {
  let attempted = 0;
  let completed = 0;
  for (const outcome of outcomes) {
    if (outcome.kind === 'completed') {
      attempted += 1;
      completed += 1;
    } else if (outcome.kind === 'failed' && outcome.volumeSnapshot) attempted += 1;
  }
  return { attempted, completed };
}

/** The snapshot objects a backup stores (in its tarball and its CSI lists), each class once. */
export interface CsiBackupObjects {
  volumeSnapshots: VolumeSnapshot[];
  volumeSnapshotContents: VolumeSnapshotContent[];
  volumeSnapshotClasses: VolumeSnapshotClass[];
}

/** Gathers the objects of the completed snapshots, in outcome order. */
export function csiBackupObjects(outcomes: readonly CsiSnapshotOutcome[]): CsiBackupObjects {
  const objects: CsiBackupObjects = { volumeSnapshots: [], volumeSnapshotContents: [], volumeSnapshotClasses: [] };
  const classNames = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.kind !== 'completed') continue;
    objects.volumeSnapshots.push(outcome.volumeSnapshot);
    objects.volumeSnapshotContents.push(outcome.content);
    if (!classNames.has(outcome.snapshotClass.metadata.name)) {
      classNames.add(outcome.snapshotClass.metadata.name);
      objects.volumeSnapshotClasses.push(outcome.snapshotClass);
    }
  }
  return objects;
}

/**
 * The entries of `<b>-volumeinfo.json.gz` for these outcomes: one per PVC, whether its
 * volume was snapshotted, skipped (with the reason) or failed (with the error).
 */
export function csiVolumeInfos(outcomes: readonly CsiSnapshotOutcome[]): BackupVolumeInfo[] {
  return outcomes.map((outcome) =>
    outcome.kind === 'failed'
      ? failedVolumeInfo({
          pvcNamespace: outcome.pvc.namespace,
          pvcName: outcome.pvc.name,
          ...(outcome.pv ? { pv: volumeInfoPv(outcome.pv) } : {}),
          reason: outcome.message,
        })
      : outcome.volumeInfo,
  );
}
