import { z } from 'zod';
import type { Clock } from '../core/clock';
import { ConflictError, RemoteError } from '../core/errors';
import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import { BACKUP_KIND, DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION, type Backup, type BackupPhase } from '../velero/backup';
import { CLUSTER_LABEL, SCHEDULE_NAME_LABEL, STORAGE_LOCATION_LABEL } from '../velero/labels';
import { validLabelValue } from '../velero/names';
import type { BackupStore } from './backup-store';

/**
 * Skiff's catalog of one location's backups, kept at `metadata/skiff/catalog.json` in the
 * same bucket (Velero refuses other top-level folders). Listing backups and deciding
 * what sync or expiry must do then costs one GET, not one per backup as reading every
 * velero-backup.json would (Velero's sync: a HEAD and GETs per backup, every minute).
 *
 * The catalog is derived data: velero-backup.json stays the truth, and a catalog that
 * is lost or damaged is rebuilt by the next rediscovery run. Every update is a
 * conditional write on the ETag read (If-Match, or If-None-Match for the first), so two
 * runs at once never lose each other's entries: the loser reads again and re-applies.
 */

/** Who wrote a backup: Skiff labels its backups with the cluster; Velero does not. */
export type BackupWriter = 'skiff' | 'velero';

/**
 * One stored VolumeSnapshotContent of a backup, as far as making it usable in a cluster
 * needs it: rediscovery then creates contents from the catalog alone, without reading
 * the backup's CSI list again for every cluster and every run.
 */
export interface CatalogContent {
  /** The stored content's name. */
  name: string;
  driver: string;
  /** The stored `status.snapshotHandle`; undefined when the stored content had none. */
  snapshotHandle?: string;
  /** The VolumeSnapshot it was bound to, as stored in `spec.volumeSnapshotRef`. */
  volumeSnapshot?: { namespace: string; name: string };
  /** The stored `status.restoreSize`, bytes. */
  restoreSize?: number;
}

/** What the catalog knows of one backup. Times are RFC 3339 strings as in the Backup status. */
export interface CatalogEntry {
  name: string;
  phase: string;
  /** The cluster it was taken of (Skiff's label); undefined for Velero's backups. */
  cluster?: string;
  schedule?: string;
  storageLocation: string;
  expiration?: string;
  startTimestamp?: string;
  completionTimestamp?: string;
  /** How many VolumeSnapshotContents the backup stored. */
  snapshots: number;
  /** The CSI drivers of those contents, sorted. */
  drivers: string[];
  writtenBy: BackupWriter;
  /** Those contents; undefined in entries written before the catalog kept them (read the CSI list then). */
  contents?: CatalogContent[];
  /** The backup's status.errors and status.warnings counts, for listings. */
  errors?: number;
  warnings?: number;
}

/** The whole catalog of a location. */
export interface Catalog {
  version: 1;
  /** When it was last written. */
  updatedAt?: string;
  backups: Record<string, CatalogEntry>;
}

const entrySchema = z.looseObject({
  name: z.string().min(1),
  phase: z.string(),
  cluster: z.string().optional(),
  schedule: z.string().optional(),
  storageLocation: z.string(),
  expiration: z.string().optional(),
  startTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  snapshots: z.number().int().nonnegative(),
  drivers: z.array(z.string()),
  writtenBy: z.enum(['skiff', 'velero']),
  contents: z
    .array(
      z.looseObject({
        name: z.string(),
        driver: z.string(),
        snapshotHandle: z.string().optional(),
        volumeSnapshot: z.object({ namespace: z.string(), name: z.string() }).optional(),
        restoreSize: z.number().optional(),
      }),
    )
    .optional(),
  errors: z.number().optional(),
  warnings: z.number().optional(),
});
const catalogSchema = z.object({
  version: z.literal(1),
  updatedAt: z.string().optional(),
  backups: z.record(z.string(), entrySchema),
});

/** An empty catalog. */
export function emptyCatalog(): Catalog {
  return { version: 1, backups: {} };
}

/**
 * The entry for a stored backup and its stored VolumeSnapshotContents. `location` is the
 * location it was found in (the spec's storageLocation may name another deployment's).
 */
export function catalogEntryFor(backup: Backup, contents: readonly VolumeSnapshotContent[], location: string): CatalogEntry {
  const labels = backup.metadata.labels ?? {};
  const cluster = labels[CLUSTER_LABEL];
  const schedule = labels[SCHEDULE_NAME_LABEL];
  const { status } = backup;
  return {
    name: backup.metadata.name,
    phase: status.phase ?? 'New',
    ...(cluster ? { cluster } : {}),
    ...(schedule ? { schedule } : {}),
    storageLocation: location,
    ...(status.expiration ? { expiration: status.expiration } : {}),
    ...(status.startTimestamp ? { startTimestamp: status.startTimestamp } : {}),
    ...(status.completionTimestamp ? { completionTimestamp: status.completionTimestamp } : {}),
    snapshots: contents.length,
    drivers: [...new Set(contents.map((c) => c.spec.driver))].sort(),
    writtenBy: cluster ? 'skiff' : 'velero',
    contents: contents.map(catalogContentFor),
    ...(status.errors !== undefined ? { errors: status.errors } : {}),
    ...(status.warnings !== undefined ? { warnings: status.warnings } : {}),
  };
}

/**
 * A Backup as far as its catalog entry knows it, for listings (GET /backups, `skiff
 * backup get`), which then cost one GET of the catalog instead of one per backup. The
 * spec is only its storage location: read the backup by name for the rest.
 */
export function backupFromCatalogEntry(entry: CatalogEntry): Backup {
  const labels: Record<string, string> = {
    [STORAGE_LOCATION_LABEL]: validLabelValue(entry.storageLocation),
    ...(entry.cluster ? { [CLUSTER_LABEL]: entry.cluster } : {}),
    ...(entry.schedule ? { [SCHEDULE_NAME_LABEL]: entry.schedule } : {}),
  };
  return {
    apiVersion: VELERO_API_VERSION,
    kind: BACKUP_KIND,
    metadata: { name: entry.name, namespace: DEFAULT_VELERO_NAMESPACE, labels },
    spec: { storageLocation: entry.storageLocation },
    status: {
      phase: entry.phase as BackupPhase,
      ...(entry.expiration ? { expiration: entry.expiration } : {}),
      ...(entry.startTimestamp ? { startTimestamp: entry.startTimestamp } : {}),
      ...(entry.completionTimestamp ? { completionTimestamp: entry.completionTimestamp } : {}),
      ...(entry.errors !== undefined ? { errors: entry.errors } : {}),
      ...(entry.warnings !== undefined ? { warnings: entry.warnings } : {}),
      csiVolumeSnapshotsCompleted: entry.snapshots,
    },
  };
}

/** What the catalog keeps of one stored VolumeSnapshotContent. */
export function catalogContentFor(content: VolumeSnapshotContent): CatalogContent {
  const ref = content.spec.volumeSnapshotRef;
  const handle = content.status?.snapshotHandle;
  const size = content.status?.restoreSize;
  return {
    name: content.metadata.name,
    driver: content.spec.driver,
    ...(handle ? { snapshotHandle: handle } : {}),
    ...(ref?.namespace && ref.name ? { volumeSnapshot: { namespace: ref.namespace, name: ref.name } } : {}),
    ...(typeof size === 'number' ? { restoreSize: size } : {}),
  };
}

/** A catalog as read, with the ETag its replacement must match (undefined: there is none yet). */
export interface CatalogVersion {
  catalog: Catalog;
  etag: string | undefined;
  /** Set when a stored catalog could not be read and was taken as empty; it is then rebuilt. */
  damaged?: string;
}

/**
 * Reads the location's catalog. A missing one is empty; a damaged one is empty with
 * `damaged` saying why (the next write replaces it), never a failed run.
 */
export async function readCatalog(store: BackupStore): Promise<CatalogVersion> {
  const key = store.layout.catalogKey();
  let found: { document: unknown; etag: string | undefined } | undefined;
  try {
    found = await store.getJsonVersion(key);
  } catch (error) {
    if (!(error instanceof RemoteError) || !/not valid JSON/.test(error.message)) throw error;
    const etag = (await store.headObject(key))?.etag;
    return { catalog: emptyCatalog(), etag, damaged: error.message };
  }
  if (!found) return { catalog: emptyCatalog(), etag: undefined };
  const parsed = catalogSchema.safeParse(found.document);
  if (!parsed.success) {
    return { catalog: emptyCatalog(), etag: found.etag, damaged: `${key} does not match the catalog format; it is rebuilt` };
  }
  return { catalog: parsed.data as Catalog, etag: found.etag };
}

/** How often updateCatalog re-reads and re-applies after losing a race. */
const MAX_CATALOG_ATTEMPTS = 5;

/**
 * Applies `change` to the latest catalog and writes it back conditionally; on a lost
 * race (412) reads again and re-applies, so `change` must be a function of the catalog
 * it is given (add these entries, remove those), not of an earlier read. `read`, the
 * caller's own readCatalog answer, stands in for the first read. Returns the catalog as
 * written. ConflictError when it keeps losing; a ReadOnly location cannot
 * be written (the store's error).
 */
export async function updateCatalog(
  store: BackupStore,
  change: (catalog: Catalog) => void,
  clock: Pick<Clock, 'now'>,
  read?: CatalogVersion,
): Promise<Catalog> {
  for (let attempt = 1; ; attempt++) {
    // The caller's read saves a GET on the first attempt; after a lost race, read again.
    const { catalog, etag } = attempt === 1 && read ? { catalog: structuredClone(read.catalog), etag: read.etag } : await readCatalog(store);
    change(catalog);
    catalog.updatedAt = clock.now().toISOString();
    try {
      await store.putObject(store.layout.catalogKey(), JSON.stringify(catalog), {
        contentType: 'application/json',
        ...(etag ? { ifMatch: etag } : { ifNoneMatch: true }),
      });
      return catalog;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_CATALOG_ATTEMPTS) throw error;
    }
  }
}
