import type { Backup, BackupProgress } from '../velero/backup';
import type { BackupProgressRecord } from './progress-record';

/**
 * What GET /backups/{name} shows of a backup that has not finished: its Backup with a
 * `status.progress` that is never absent once the backup is recorded, and that names
 * the stage the run is in, what it waits for, and how long it has been running.
 * Velero's BackupProgress has only the two counts; the other fields are Skiff's, shown
 * while the backup runs and never written to velero-backup.json (the final status
 * keeps the counts alone, see finalize.ts).
 */

/** Velero's counts, plus the run's stage in words. */
export interface RunProgress extends BackupProgress {
  totalItems: number;
  itemsBackedUp: number;
  /** The progress record's stage: New, Snapshots, Resources, Finalizing, Done or Failed. */
  stage: BackupProgressRecord['stage'];
  /** E.g. "waiting for 10 VolumeSnapshots: 3 ready", "writing resources: 22,973 / ~50,000". */
  message: string;
  /** Whole seconds from status.startTimestamp to now, or to the completion of a failed run. */
  elapsedSeconds: number;
  /** Set when no invocation holds the backup now: it waits for the next one to continue it. */
  paused?: boolean;
}

const count = new Intl.NumberFormat('en-US');

/** The message for a record's stage; pure. */
export function stageMessage(record: BackupProgressRecord): string {
  const status = record.backup.status;
  switch (record.stage) {
    case 'New':
      return 'waiting for a runner to start it';
    case 'Snapshots': {
      const progress = record.snapshotProgress;
      if (!progress) return 'listing PVCs and choosing VolumeSnapshotClasses';
      if (progress.total === 0) return 'no volume to snapshot';
      const failed = progress.failed > 0 ? `, ${progress.failed} failed` : '';
      if (progress.attempted < progress.total) {
        return `creating VolumeSnapshots: ${count.format(progress.attempted)} / ${count.format(progress.total)} created, ${count.format(progress.completed)} ready${failed}`;
      }
      return `waiting for ${count.format(progress.total)} VolumeSnapshots: ${count.format(progress.completed)} ready${failed}`;
    }
    case 'Resources': {
      const done = status.progress?.itemsBackedUp ?? 0;
      const total = status.progress?.totalItems ?? 0;
      return total > done ? `writing resources: ${count.format(done)} / ~${count.format(total)}` : `writing resources: ${count.format(done)}`;
    }
    case 'Finalizing':
      return `writing the backup's files to storage location ${record.backup.spec.storageLocation ?? ''}`.trimEnd();
    case 'Done':
      return 'done';
    case 'Failed':
      return `failed: ${status.failureReason ?? 'see the backup log'}`;
  }
}

/** The run's progress as GET /backups/{name} shows it; pure. */
export function runProgress(record: BackupProgressRecord, now: Date): RunProgress {
  const status = record.backup.status;
  const started = Date.parse(status.startTimestamp ?? '');
  const until = record.stage === 'Failed' || record.stage === 'Done' ? Date.parse(status.completionTimestamp ?? '') : now.getTime();
  const elapsedMs = Number.isNaN(started) || Number.isNaN(until) ? 0 : Math.max(0, until - started);
  const running = record.stage === 'Snapshots' || record.stage === 'Resources' || record.stage === 'Finalizing';
  const held = record.lease !== undefined && Date.parse(record.lease.until) > now.getTime();
  return {
    totalItems: status.progress?.totalItems ?? 0,
    itemsBackedUp: status.progress?.itemsBackedUp ?? 0,
    stage: record.stage,
    message: stageMessage(record),
    elapsedSeconds: Math.floor(elapsedMs / 1000),
    ...(running && !held ? { paused: true } : {}),
  };
}

/** The Backup of a progress record, with its run's progress in status.progress. */
export function backupInProgressView(record: BackupProgressRecord, now: Date): Backup {
  return { ...record.backup, status: { ...record.backup.status, progress: runProgress(record, now) } };
}

/** "1h02m05s", "3m07s", "12s": an elapsed time for people. */
export function elapsedText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${two(m)}m${two(s)}s`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}
