import type { VolumeSnapshot, VolumeSnapshotContent } from './snapshot-api';
import type { PvcRef } from './plan';

/**
 * How far a CSI snapshot has come, and how often to look again, as pure functions.
 *
 * A snapshot is ready when its VolumeSnapshot reports readyToUse: the snapshot-controller
 * sets that only once the bound content is ready, and a dynamic content becomes ready
 * together with the storage system's snapshot handle (what Velero's
 * WaitUntilVSCHandleIsReady waits for). So the VolumeSnapshots alone, one list for all,
 * tell how every snapshot is doing; a content is read only when its VolumeSnapshot
 * shows an error or runs out of time, to tell why.
 *
 * An error is final only when it is still there at the timeout. The snapshot-controller
 * and the CSI sidecar retry a refused snapshot with backoff, and a transient refusal
 * (the storage system busy, a lost connection) often succeeds on a later try; Velero's
 * VolumeSnapshot action took the content's first error as final and failed snapshots
 * that would have succeeded (Velero #10483). So while time remains an error only
 * leaves the snapshot pending (and is reported, so the log can say it recovered); at
 * the timeout, a content's error is the driver's verdict and is quoted as the cause.
 */

/** What a pending snapshot waits for. */
export type SnapshotStage = 'binding' | 'handle' | 'ready';

/** The verdict on one snapshot at one look. */
export type SnapshotAssessment =
  | { kind: 'pending'; waitingFor: SnapshotStage; error?: string }
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'timed-out'; message: string };

/** What is known about one snapshot at one look. */
export interface AssessSnapshotInput {
  pvc: PvcRef;
  driver: string;
  /** The VolumeSnapshot as last read; undefined when it no longer exists. */
  volumeSnapshot: VolumeSnapshot | undefined;
  /** Its bound content, when it was read (see contentNeeded). */
  content: VolumeSnapshotContent | undefined;
  elapsedMs: number;
  timeoutMs: number;
  /** The timeout as the backup spells it, e.g. `10m0s`, for messages. */
  timeoutText: string;
}

/**
 * Whether deciding about a VolumeSnapshot needs its content: when it is bound but not
 * ready and either shows an error (final if the content has it) or is out of time
 * (the content says how far the driver got).
 */
export function contentNeeded(snapshot: VolumeSnapshot, elapsedMs: number, timeoutMs: number): boolean {
  const status = snapshot.status;
  if (!status?.boundVolumeSnapshotContentName || status.readyToUse === true) return false;
  return status.error !== undefined || elapsedMs >= timeoutMs;
}

function stageOf(snapshot: VolumeSnapshot, content: VolumeSnapshotContent | undefined): SnapshotStage {
  if (!snapshot.status?.boundVolumeSnapshotContentName) return 'binding';
  if (!content?.status?.snapshotHandle) return 'handle';
  return 'ready';
}

/** Decides whether a snapshot is ready, failed, out of time, or still on its way. */
export function assessSnapshot(input: AssessSnapshotInput): SnapshotAssessment {
  const { pvc, volumeSnapshot: snapshot, content } = input;
  const pvcText = `PVC ${pvc.namespace}/${pvc.name}`;
  if (!snapshot || snapshot.metadata.deletionTimestamp) {
    return {
      kind: 'failed',
      message:
        `the VolumeSnapshot of ${pvcText} was deleted by someone else before it was ready; ` +
        "nothing in the backup holds this volume's data, run the backup again",
    };
  }
  const vsText = `VolumeSnapshot ${snapshot.metadata.namespace}/${snapshot.metadata.name}`;
  if (snapshot.status?.readyToUse === true && snapshot.status.boundVolumeSnapshotContentName) return { kind: 'ready' };
  const driverError = content?.status?.readyToUse !== true ? content?.status?.error : undefined;
  const stage = stageOf(snapshot, content);
  if (input.elapsedMs < input.timeoutMs) {
    return { kind: 'pending', waitingFor: stage, ...(driverError ? { error: driverError.message ?? 'no message' } : {}) };
  }
  if (driverError && content) {
    return {
      kind: 'failed',
      message:
        `the CSI driver ${input.driver} could not snapshot ${pvcText} (${vsText}, VolumeSnapshotContent ` +
        `${content.metadata.name}): ${driverError.message ?? 'no message'}, still failing after csiSnapshotTimeout ` +
        `${input.timeoutText}; check the driver and its storage system`,
    };
  }

  const contentName = content?.metadata.name ?? snapshot.status?.boundVolumeSnapshotContentName;
  const waitedFor = {
    binding: 'the snapshot controller did not bind it to a VolumeSnapshotContent (is the snapshot-controller running?)',
    handle: `the CSI driver ${input.driver} did not report a snapshot handle on VolumeSnapshotContent ${contentName}`,
    ready: `the snapshot was cut (handle ${content?.status?.snapshotHandle}) but did not become ready to use`,
  }[stage];
  const lastError = snapshot.status?.error?.message;
  return {
    kind: 'timed-out',
    message:
      `the snapshot of ${pvcText} (${vsText}) was not ready within csiSnapshotTimeout ${input.timeoutText}: ${waitedFor}` +
      `${lastError ? `; last error: ${lastError}` : ''}. Check the CSI driver ${input.driver}, or raise spec.csiSnapshotTimeout`,
  };
}
