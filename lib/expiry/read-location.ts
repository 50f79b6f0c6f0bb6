import type { BackupStore } from '../store/backup-store';
import { readCatalog, type CatalogEntry } from '../store/catalog';
import { readDeletionMarker, type MarkerVersion } from '../store/deletion-marker';
import { readProgressRecordView, type ProgressRecordView } from '../store/progress-records';
import type { Backup } from '../velero/backup';
import { SCHEDULE_NAME_LABEL } from '../velero/labels';
import type { BackupSummary } from './select';

/**
 * What one storage location holds, as expiry needs it, read with as few requests as it
 * can: one LIST of backups/ (the truth of what exists), one GET of the catalog (what
 * each backup is, without reading its velero-backup.json), one LIST each of deletion
 * markers and of backups being written, a GET per marker (deletions under way are few),
 * a GET per progress record of a backup with no velero-backup.json (backups being
 * written, and failed ones until they expire: few), and a GET of velero-backup.json
 * only for backups the catalog does not know yet. The
 * catalog is kept by rediscovery; until it has run, every backup costs that one GET.
 */

export interface LocationState {
  /** Names under backups/ (folders; a half-deleted backup may have no velero-backup.json). */
  folders: Set<string>;
  summaries: BackupSummary[];
  /** velero-backup.json of the backups read here (those the catalog did not know). */
  read: Map<string, Backup>;
  catalog: Map<string, CatalogEntry>;
  markers: Map<string, MarkerVersion>;
  inProgress: Set<string>;
  /**
   * The progress records of backups with no velero-backup.json (being written, or failed;
   * a failed one may have objects under backups/, `folders` says).
   */
  progressRecords: ProgressRecordView[];
  /** Backups that could not be read: kept this run, and said so. */
  unreadable: Map<string, string>;
}

/** The summary selection works with, from a stored Backup. */
export function summaryOf(backup: Backup): BackupSummary {
  const { status } = backup;
  const schedule = backup.metadata.labels?.[SCHEDULE_NAME_LABEL];
  return {
    name: backup.metadata.name,
    phase: status.phase ?? 'New',
    ...(status.expiration ? { expiration: status.expiration } : {}),
    ...(status.startTimestamp ? { startTimestamp: status.startTimestamp } : {}),
    ...(status.completionTimestamp ? { completionTimestamp: status.completionTimestamp } : {}),
    ...(schedule ? { schedule } : {}),
  };
}

function summaryOfEntry(entry: CatalogEntry): BackupSummary {
  return {
    name: entry.name,
    phase: entry.phase,
    ...(entry.expiration ? { expiration: entry.expiration } : {}),
    ...(entry.startTimestamp ? { startTimestamp: entry.startTimestamp } : {}),
    ...(entry.completionTimestamp ? { completionTimestamp: entry.completionTimestamp } : {}),
    ...(entry.schedule ? { schedule: entry.schedule } : {}),
  };
}

/**
 * Reads the location. Throws when the location itself cannot be listed (the run then
 * deletes nothing there); a single backup or marker that cannot be read is noted in
 * `unreadable` and kept. `only` limits the reads to one backup (a requested deletion).
 */
export async function readLocation(store: BackupStore, only?: string): Promise<LocationState> {
  const [names, { catalog }, markerNames, progressNames] = await Promise.all([
    // For one backup its folder is taken as there: a half-deleted backup may have objects
    // without a velero-backup.json, and deleting them costs one LIST either way.
    only === undefined ? store.listBackupNames() : Promise.resolve([only]),
    readCatalog(store),
    store.listDeletionMarkers(),
    store.listProgressNames(),
  ]);
  const wanted = (name: string) => only === undefined || name === only;
  const state: LocationState = {
    folders: new Set(names.filter(wanted)),
    summaries: [],
    read: new Map(),
    catalog: new Map(Object.entries(catalog.backups)),
    markers: new Map(),
    inProgress: new Set(progressNames.filter(wanted)),
    progressRecords: [],
    unreadable: new Map(),
  };
  // A record beside a folder is read with the folder (below): one beside a stored backup
  // is one being finalized, which inProgress keeps.
  await Promise.all([...state.inProgress].filter((name) => !state.folders.has(name)).map((name) => readRecord(store, state, name)));
  await Promise.all(
    markerNames.filter(wanted).map(async (name) => {
      try {
        const marker = await readDeletionMarker(store, name);
        if (marker) state.markers.set(name, marker);
      } catch (error) {
        state.unreadable.set(name, `its deletion marker could not be read: ${(error as Error).message}`);
      }
    }),
  );
  await Promise.all(
    [...state.folders].map(async (name) => {
      if (state.markers.has(name) || state.unreadable.has(name)) return;
      const entry = state.catalog.get(name);
      if (entry) {
        state.summaries.push(summaryOfEntry(entry));
        return;
      }
      try {
        const backup = await store.getBackupMetadata(name);
        if (!backup) {
          // A folder without velero-backup.json is no backup (Velero's rule too); with a
          // progress record beside it, it is one being finalized, or one that failed
          // after uploading some objects (its velero-backup.json could not be written).
          if (state.inProgress.has(name)) await readRecord(store, state, name);
          return;
        }
        state.read.set(name, backup);
        state.summaries.push(summaryOf(backup));
      } catch (error) {
        state.unreadable.set(name, `its velero-backup.json could not be read: ${(error as Error).message}`);
      }
    }),
  );
  state.summaries.sort((a, b) => (a.name < b.name ? -1 : 1));
  state.progressRecords.sort((a, b) => (a.name < b.name ? -1 : 1));
  return state;
}

/**
 * The progress record of a backup with no velero-backup.json: a failed one is selected
 * like any failed backup (whatever it left goes once it expired); one still being
 * written stays in `inProgress`, which keeps it.
 */
async function readRecord(store: BackupStore, state: LocationState, name: string): Promise<void> {
  try {
    const view = await readProgressRecordView(store, name);
    if (view) state.progressRecords.push(view);
  } catch (error) {
    state.unreadable.set(name, `its progress record could not be read: ${(error as Error).message}`);
  }
}
