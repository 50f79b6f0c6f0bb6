import type { Clock } from '../core/clock';
import { RemoteError, ValidationError } from '../core/errors';
import { logger } from '../core/logger';
import type { BackupStore } from '../store/backup-store';
import { catalogEntryFor, readCatalog, updateCatalog, type Catalog, type CatalogEntry } from '../store/catalog';
import { backupsToSync } from './decisions';
import { inParallel } from '../core/parallel';

/**
 * Finding a location's backups cheaply: one paginated LIST of backups/ by common prefix
 * and one GET of the catalog. Only backups the catalog does not know are read, each
 * with at most two GETs (velero-backup.json and the CSI VolumeSnapshotContent list), as
 * Velero's backup sync reads only the backups its cluster lacks
 * (pkg/controller/backup_sync_controller.go); a failing one is reported and skipped.
 */

/** A backup left out of the catalog this run, and why. */
export interface SkippedBackup {
  backup: string;
  reason: string;
}

/** What a discovery run found. */
export interface DiscoveryResult {
  location: string;
  /** Backup folders listed under backups/. */
  found: number;
  /** Backups catalogued by this run. */
  new: string[];
  /** Backups that left the bucket, and so the catalog. */
  gone: string[];
  skipped: SkippedBackup[];
  /** The catalog after this run (as written, or as it would be on a dry run). */
  catalog: Catalog;
  /** Set when the stored catalog could not be read and was rebuilt. */
  catalogDamaged?: string;
  /** Why the catalog was not written, when it was not (dry run, ReadOnly location). */
  catalogNotWritten?: string;
}

export interface DiscoverDeps {
  store: BackupStore;
  clock: Clock;
  /** Backups with a deletion marker; asked only when there is something new to read. */
  deletionMarkers: () => Promise<ReadonlySet<string>>;
  /** false for a ReadOnly location: the catalog is then kept in memory only. */
  writable: boolean;
}

/** How many backups are read at once. */
const FETCH_CONCURRENCY = 16;

/**
 * Lists the location's backups, reads the new ones, and updates the catalog (a
 * conditional write; see updateCatalog). A location that cannot be listed, or whose
 * catalog cannot be read, fails the run (the error of the store) and changes nothing.
 */
export async function discoverBackups(deps: DiscoverDeps, options: { dryRun: boolean }): Promise<DiscoveryResult> {
  const { store } = deps;
  const [names, read] = await Promise.all([store.listBackupNames(), readCatalog(store)]);
  const { toFetch, gone } = backupsToSync(names, Object.keys(read.catalog.backups));
  const skipped: SkippedBackup[] = [];
  const entries = await readNewBackups(deps, toFetch, skipped);

  const change = (catalog: Catalog) => {
    for (const entry of entries) catalog.backups[entry.name] = entry;
    for (const name of gone) delete catalog.backups[name];
  };
  const result = {
    location: store.location,
    found: names.length,
    new: entries.map((e) => e.name),
    gone,
    skipped,
    ...(read.damaged ? { catalogDamaged: read.damaged } : {}),
  };
  const changed = entries.length > 0 || gone.length > 0 || read.damaged !== undefined;
  const notWritten = !changed ? undefined : options.dryRun ? 'dry run' : !deps.writable ? 'the storage location is ReadOnly' : undefined;
  if (!changed || notWritten) {
    change(read.catalog);
    return { ...result, catalog: read.catalog, ...(notWritten ? { catalogNotWritten: notWritten } : {}) };
  }
  return { ...result, catalog: await updateCatalog(store, change, deps.clock, read) };
}

/** Reads each new backup (skipping those being deleted) into a catalog entry; failures go to `skipped`. */
async function readNewBackups(deps: DiscoverDeps, names: readonly string[], skipped: SkippedBackup[]): Promise<CatalogEntry[]> {
  if (names.length === 0) return [];
  const deleting = await deps.deletionMarkers();
  const entries: CatalogEntry[] = [];
  await inParallel(names, FETCH_CONCURRENCY, async (name) => {
    if (deleting.has(name)) {
      skipped.push({ backup: name, reason: 'it is being deleted (it has a deletion marker)' });
      return;
    }
    const outcome = await readBackup(deps.store, name);
    if ('entry' in outcome) entries.push(outcome.entry);
    else skipped.push({ backup: name, reason: outcome.reason });
  });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  skipped.sort((a, b) => a.backup.localeCompare(b.backup));
  return entries;
}

/** At most two GETs: velero-backup.json, then the CSI VolumeSnapshotContent list. */
async function readBackup(store: BackupStore, name: string): Promise<{ entry: CatalogEntry } | { reason: string }> {
  let backup;
  try {
    backup = await store.getBackupMetadata(name);
  } catch (error) {
    return { reason: unreadable('velero-backup.json', name, error) };
  }
  // Velero: velero-backup.json's presence means "this backup exists".
  if (!backup) return { reason: 'it has no velero-backup.json (still being written, or abandoned): not a backup yet' };
  let contents;
  try {
    contents = await store.getCsiVolumeSnapshotContents(name);
  } catch (error) {
    return { reason: unreadable('its CSI VolumeSnapshotContent list', name, error) };
  }
  return { entry: catalogEntryFor(backup, contents, store.location) };
}

/** The reason for a skipped backup; a damaged file is said so, anything else logged too. */
function unreadable(what: string, backup: string, error: unknown): string {
  const message = (error as Error).message;
  if (error instanceof ValidationError || (error instanceof RemoteError && /not valid JSON/.test(message))) {
    return `${what} does not parse: ${message}`;
  }
  logger.warn('could not read a stored backup; it is tried again in the next run', { backup, error });
  return `${what} could not be read (${message}); tried again in the next run`;
}
