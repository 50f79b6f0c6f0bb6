import { z } from 'zod';
import type { Clock } from '../core/clock';
import { ConflictError } from '../core/errors';
import type { Backup } from '../velero/backup';
import { DELETION_REASON_ANNOTATION, DELETION_WAITING_ON_ANNOTATION } from '../velero/labels';
import type { BackupStore } from './backup-store';

/**
 * The record that a backup is being deleted, at `metadata/skiff/deleting/<b>.json`.
 *
 * It is written before anything of the backup is deleted and removed after everything
 * else is gone, so a deletion that stops part way (a failed step, a snapshot still in
 * use, a killed run) stays visible as phase Deleting and is continued by the next run.
 * velero-backup.json is never rewritten to say so: buckets with S3 Object Lock keep it
 * as written, and Velero reads only its own Backup objects' phase anyway. Rediscovery
 * does not bring back a backup that has a marker.
 */

/** Why a backup is being deleted. */
export type DeletionCause = 'expired' | 'requested';

export interface DeletionMarker {
  version: 1;
  backup: string;
  cause: DeletionCause;
  /** One sentence: "expired at 2025-01-01T00:00:00Z", "requested through DELETE /backups/{name}". */
  why: string;
  /** RFC 3339: when the deletion was decided. */
  since: string;
  /**
   * The backup's velero-backup.json as it was when the deletion started, so the backup
   * can be shown (as Deleting) even after its own objects are gone.
   */
  storedBackup?: Backup;
  /** What the last run could not do yet, one sentence each; empty once nothing waits. */
  waitingOn?: string[];
  /** RFC 3339: when a run last worked on the deletion. */
  lastRunAt?: string;
}

const markerSchema = z.looseObject({
  version: z.literal(1),
  backup: z.string().min(1),
  cause: z.enum(['expired', 'requested']),
  why: z.string(),
  since: z.string(),
  storedBackup: z.looseObject({}).optional(),
  waitingOn: z.array(z.string()).optional(),
  lastRunAt: z.string().optional(),
});

/** A marker as read, with the ETag a later update must match. */
export interface MarkerVersion {
  marker: DeletionMarker;
  etag: string | undefined;
}

/**
 * The backup's deletion marker, or undefined when it is not being deleted. A marker
 * that does not parse still means "being deleted" (it only exists because a deletion
 * started): it is read as a requested deletion with the problem as its reason.
 */
export async function readDeletionMarker(store: BackupStore, backup: string): Promise<MarkerVersion | undefined> {
  const key = store.layout.deletionMarkerKey(backup);
  const found = await store.getJsonVersion(key);
  if (!found) return undefined;
  const parsed = markerSchema.safeParse(found.document);
  if (parsed.success) return { marker: parsed.data as DeletionMarker, etag: found.etag };
  return {
    marker: { version: 1, backup, cause: 'requested', why: `${key} could not be read; the deletion goes on`, since: '' },
    etag: found.etag,
  };
}

/**
 * Creates the marker, create-only (If-None-Match: *): of two runs that start deleting
 * the same backup, one writes it. Answers false when a marker was there already (the
 * deletion is the same). ConflictError on a ReadOnly location (the store's refusal).
 */
export async function createDeletionMarker(store: BackupStore, marker: DeletionMarker): Promise<boolean> {
  try {
    await store.putObject(store.layout.deletionMarkerKey(marker.backup), JSON.stringify(marker), {
      contentType: 'application/json',
      ifNoneMatch: true,
    });
    return true;
  } catch (error) {
    // putObject's answer to a failed If-None-Match (backup-store.ts); a ReadOnly refusal is another ConflictError.
    if (error instanceof ConflictError && / already exists /.test(error.message)) return false;
    throw error;
  }
}

/**
 * Records what the last run could not do yet (`waitingOn`), replacing the marker only
 * if nobody changed it since it was read (If-Match). Returns false when the marker
 * changed or is gone (another run is at work on it; its word wins).
 */
export async function recordDeletionProgress(
  store: BackupStore,
  current: MarkerVersion,
  waitingOn: string[],
  clock: Pick<Clock, 'now'>,
): Promise<boolean> {
  const next: DeletionMarker = { ...current.marker, waitingOn, lastRunAt: clock.now().toISOString() };
  try {
    await store.putObject(store.layout.deletionMarkerKey(current.marker.backup), JSON.stringify(next), {
      contentType: 'application/json',
      ...(current.etag ? { ifMatch: current.etag } : {}),
    });
    return true;
  } catch (error) {
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

/**
 * The Backup as the API shows one being deleted: phase Deleting, with the marker's
 * reason and what it waits on as annotations (Velero's Backup status has no field for
 * them). `stored` is the backup's velero-backup.json, or undefined once it is gone.
 */
export function deletingBackupView(stored: Backup | undefined, marker: DeletionMarker): Backup | undefined {
  const base = stored ?? marker.storedBackup;
  if (!base) return undefined;
  const view = structuredClone(base);
  view.status = { ...view.status, phase: 'Deleting' };
  view.metadata.annotations = {
    ...view.metadata.annotations,
    [DELETION_REASON_ANNOTATION]: marker.why,
    ...(marker.waitingOn && marker.waitingOn.length > 0 ? { [DELETION_WAITING_ON_ANNOTATION]: marker.waitingOn.join('; ') } : {}),
  };
  return view;
}
