import { ConflictError } from '../core/errors';
import type { BackupStore } from '../store/backup-store';
import type { BackupResults } from '../velero/results';
import type { Restore } from '../velero/restore';
import type { ResourceModifiers } from './modifiers';

/**
 * Everything a restore needs to go on in a fresh invocation after its function was
 * stopped (the 15-minute limit, a crash), and what GET /restores/{name} shows: kept
 * under metadata/ (layout.restoreRecordKey), written with If-Match so that one
 * invocation at a time owns the restore.
 */
export interface RestoreRecord {
  restore: Restore;
  cluster: string;
  storageLocation: string;
  resourceModifiers?: ResourceModifiers;
  acceptRolloutRisk: boolean;
  /**
   * Where the run goes on: the step (group-resource, in plan order) and the item within
   * it. Every item before it is done; items after it may have been created by an
   * invocation that stopped before its checkpoint, which a POST answers with 409 and
   * the restore's label tells apart (write-item.ts).
   */
  cursor: { step: number; item: number };
  attempts: number;
  results: BackupResults;
  /** Velero's restore resource list: `"<apiVersion>/<Kind>": ["ns/name(created)", ...]`. */
  resourceList: Record<string, string[]>;
  volumeInfos: RestoreVolumeInfo[];
  /**
   * `resource.group` → the API version restored where it is not the backup's preferred
   * copy (api-versions.ts). Chosen at the restore's first plan and kept, so an
   * invocation that goes on reads the same copies even after the restore's own CRDs
   * changed what the target cluster serves.
   */
  apiVersions?: Record<string, string>;
  log: string[];
}

/** One restored volume, in the shape of Velero's RestoreVolumeInfo (pkg/volume/volume_info.go). */
export interface RestoreVolumeInfo {
  pvcName: string;
  pvcNamespace: string;
  restoreMethod: 'CSISnapshot';
  snapshotDataMoved: false;
  csiSnapshotInfo: { snapshotHandle: string; driver: string; vscName: string; size?: number };
}

/** A record as read, with the ETag a later write must match. */
export interface StoredRecord {
  record: RestoreRecord;
  etag: string;
}

/** The record of restore `name`, or undefined when this location has none. */
export async function readRestoreRecord(store: BackupStore, name: string): Promise<StoredRecord | undefined> {
  const found = await store.getJsonVersion(store.layout.restoreRecordKey(name));
  if (!found) return undefined;
  return { record: found.document as RestoreRecord, etag: found.etag ?? '' };
}

/**
 * Writes a record: create-only when `etag` is undefined, else only over that version.
 *
 * @throws ConflictError when another request created it, or another invocation changed it.
 */
export async function writeRestoreRecord(store: BackupStore, record: RestoreRecord, etag: string | undefined): Promise<string> {
  const key = store.layout.restoreRecordKey(record.restore.metadata.name);
  const answer = await store.putObject(key, JSON.stringify(record), {
    contentType: 'application/json',
    ...(etag === undefined ? { ifNoneMatch: true } : { ifMatch: etag }),
  });
  if (!answer.etag) throw new ConflictError(`the store answered no ETag for ${key}; restores need a store that supports conditional writes`);
  return answer.etag;
}
