import { gzipSync } from 'node:zlib';
import { ConflictError } from '../core/errors';
import type { BackupStore } from '../store/backup-store';
import { formatTime, serializeBackup, type Backup } from '../velero/backup';
import type { BackupLog } from './backup-log';
import type { BackupProgressRecord } from './progress-record';
import { countMessages, serializeResults, type ResourceList } from '../velero/results';

function gzipJson(value: unknown): Buffer {
  return gzipSync(`${JSON.stringify(value)}\n`);
}

/**
 * The Backup's final status, as Velero decides it: any error makes the backup
 * PartiallyFailed, warnings do not.
 */
export function completedBackup(record: BackupProgressRecord, now: Date): Backup {
  const backup = structuredClone(record.backup);
  const errors = countMessages(record.results.errors);
  const items = record.tarball?.itemsBackedUp ?? 0;
  backup.status = {
    ...backup.status,
    phase: errors > 0 ? 'PartiallyFailed' : 'Completed',
    completionTimestamp: formatTime(now),
    errors,
    warnings: countMessages(record.results.warnings),
    progress: { totalItems: items, itemsBackedUp: items },
    csiVolumeSnapshotsAttempted: record.snapshots?.attempted ?? 0,
    csiVolumeSnapshotsCompleted: record.snapshots?.completed ?? 0,
  };
  return backup;
}

/**
 * Writes every object of a finished backup, `velero-backup.json` last and once, so
 * the backup only becomes visible (to Skiff and to Velero) when it is complete, and
 * buckets with Object Lock never see it rewritten. Every write must succeed: a
 * backup whose results or lists are missing would be misleading, so any failure
 * stops before the metadata is written and the run can be retried. `beforeMetadata`
 * runs alongside the other writes and must also succeed before the metadata is written.
 * Run again after the metadata was written (see ownMetadata), it returns the stored
 * Backup instead of failing. Throws ConflictError when another backup's metadata is there.
 */
export async function writeBackupObjects(
  store: BackupStore,
  record: BackupProgressRecord,
  log: BackupLog,
  now: Date,
  resources: ResourceList,
  beforeMetadata: () => Promise<void> = async () => undefined,
): Promise<Backup> {
  const name = record.backup.metadata.name;
  const keys = store.layout;
  const backup = completedBackup(record, now);
  const snapshots = record.snapshots;
  log.info('backup completed', { phase: backup.status.phase ?? '', items: backup.status.progress?.itemsBackedUp ?? 0 });

  const objects: [string, Buffer][] = [
    [keys.backupResourceListKey(name), gzipSync(resources.serialize())],
    [keys.backupResultsKey(name), gzipSync(serializeResults(record.results))],
    [keys.backupVolumeInfoKey(name), gzipJson(snapshots?.volumeInfos ?? [])],
    [keys.backupItemOperationsKey(name), gzipJson([])],
    [keys.csiVolumeSnapshotsKey(name), gzipJson(snapshots?.volumeSnapshots ?? [])],
    [keys.csiVolumeSnapshotContentsKey(name), gzipJson(snapshots?.volumeSnapshotContents ?? [])],
    [keys.csiVolumeSnapshotClassesKey(name), gzipJson(snapshots?.volumeSnapshotClasses ?? [])],
    // The log goes last among the data so it records everything before it.
    [keys.backupLogKey(name), log.gzip()],
  ];
  // No Content-Encoding: Velero reads these as plain objects and gunzips them itself.
  await Promise.all([beforeMetadata(), ...objects.map(([key, body]) => store.putObject(key, body))]);
  try {
    await store.putObject(keys.backupMetadataKey(name), serializeBackup(backup), {
      ifNoneMatch: true,
      contentType: 'application/json',
    });
  } catch (error) {
    const own = error instanceof ConflictError ? await ownMetadata(store, backup) : undefined;
    if (!own) throw error;
    log.info('velero-backup.json was written by an earlier attempt of this backup; it stays as written');
    return own;
  }
  return backup;
}

/**
 * The stored velero-backup.json when an earlier attempt of this same backup wrote it:
 * its answer was lost (a dropped connection, the SDK's retry then refused by
 * If-None-Match) or the invocation stopped before removing the progress record.
 * Undefined when it belongs to another backup of that name, or is gone.
 */
export async function ownMetadata(store: BackupStore, backup: Backup): Promise<Backup | undefined> {
  const stored = await store.getBackupMetadata(backup.metadata.name);
  return stored && sameBackup(stored, backup) ? stored : undefined;
}

/**
 * The same Backup object: the uid when both have one (Velero's), else the creation
 * time, which a new backup of the same name cannot share (it is refused while this
 * one's velero-backup.json exists).
 */
function sameBackup(a: Backup, b: Backup): boolean {
  if (a.metadata.uid !== undefined && b.metadata.uid !== undefined) return a.metadata.uid === b.metadata.uid;
  return a.metadata.creationTimestamp !== undefined && a.metadata.creationTimestamp === b.metadata.creationTimestamp;
}
