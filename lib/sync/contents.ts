import type { ClusterSyncConfig } from '../config';
import type { Clock } from '../core/clock';
import { inParallel } from '../core/parallel';
import { staticContentFor } from '../csi/builders';
import { checkHandle, hasStorageRecords, LONGHORN_BACKUPS_PATH, longhornBackupRecord, type StorageBackupRecord } from '../csi/handles';
import { csiDriversPath, volumeSnapshotClassesPath, volumeSnapshotContentsPath, type VolumeSnapshotClass, type VolumeSnapshotContent } from '../csi/snapshot-api';
import { watchByList } from '../csi/watch';
import type { KubeClient } from '../kube/client';
import { isAlreadyExists, isNotFound, KubeAmbiguousWriteError } from '../kube/errors';
import { listAll, type KubeObject } from '../kube/list-all';
import type { CatalogContent, CatalogEntry } from '../store/catalog';
import {
  backupLabelValue,
  BACKUP_NAME_LABEL,
  SOURCE_CLUSTER_ANNOTATION,
  SOURCE_CONTENT_ANNOTATION,
  SOURCE_STORAGE_LOCATION_ANNOTATION,
} from '../velero/labels';
import { capped, classForSyncedContent, heldContents, isHeld, newestFirst, orphanedBackupLabels, placeholderSnapshotRef, receivesBackup, syncedContentName } from './decisions';
import type { ClusterSyncResult, HandleRepair } from './report';

/**
 * Making a location's stored snapshots usable in one cluster: for each catalogued
 * backup the cluster receives whose snapshots it does not hold, a static
 * VolumeSnapshotContent pointing at the stored `status.snapshotHandle` (never
 * `source.volumeHandle`: Velero #7978, a snapshot storm), `deletionPolicy: Retain`, a
 * class of the same driver, labelled for the backup so expiry and restore find it.
 * Velero's backup sync did the same up to 1.15 "only to ensure that the storage
 * snapshots are cleaned up on backup deletion or expiry"
 * (pkg/controller/backup_sync_controller.go).
 *
 * Costs, per run and cluster: one paginated LIST of the cluster's contents; with
 * something to make, one LIST each of VolumeSnapshotClasses, CSIDrivers and (Longhorn)
 * backups.longhorn.io, one create per content (no read before it), and one LIST per
 * look while waiting for readiness. Nothing is ever deleted.
 */

export interface ClusterSyncDeps {
  client: KubeClient;
  clock: Clock;
  /** The location's name, for annotations and messages. */
  location: string;
  /** The stored contents of a catalogued backup whose entry predates `contents`. */
  storedContents: (backup: string) => Promise<CatalogContent[]>;
  /** Backups with a deletion marker; asked only when there is something to make. */
  deletionMarkers: () => Promise<ReadonlySet<string>>;
  /**
   * Backup label values known outside this location's catalog (other locations,
   * backups still being written); asked only when a cluster has contents labelled
   * for a backup this catalog does not know.
   */
  knownElsewhere: () => Promise<ReadonlySet<string>>;
}

export interface ClusterSyncOptions extends ClusterSyncConfig {
  dryRun: boolean;
  /** How long to wait for the created contents to become ready, ms. */
  waitTimeoutMs: number;
}

/** One stored snapshot the cluster lacks. */
interface Wanted {
  entry: CatalogEntry;
  stored: CatalogContent & { snapshotHandle: string };
}

/** One content to create. */
interface Planned extends Wanted {
  name: string;
  handle: string;
  snapshotClass: string;
}

/** How many contents are created at once. */
const CREATE_CONCURRENCY = 8;

/**
 * Brings the cluster up to the catalog, within the cluster's cap. Problems with one
 * backup or content are reported in the result and never stop the others; an error of
 * the cluster itself (unreachable, a LIST refused) is thrown for the caller to report.
 */
export async function syncCluster(
  deps: ClusterSyncDeps,
  cluster: string,
  entries: readonly CatalogEntry[],
  options: ClusterSyncOptions,
): Promise<ClusterSyncResult> {
  const result = emptyClusterResult(cluster, options.mode);
  const contents = await listAll<VolumeSnapshotContent>(deps.client, volumeSnapshotContentsPath());
  const held = heldContents(contents);
  const receiving = entries.filter((e) => receivesBackup(options.mode, cluster, e)).sort(newestFirst);
  result.receiving = receiving.length;

  let wanted = await lackedSnapshots(deps, receiving, held, result);
  if (wanted.length > 0) {
    const deleting = await deps.deletionMarkers();
    wanted = wanted.filter((w) => {
      if (!deleting.has(w.entry.name)) return true;
      skip(result, w.entry.name, 'it is being deleted (it has a deletion marker)');
      return false;
    });
  }
  const planned = wanted.length > 0 ? await plan(deps, cluster, wanted, held, result) : [];
  const { now, waiting } = capped(planned, options.maxContentsPerRun);
  result.waiting = waiting;
  result.planned = now.map((p) => ({ backup: p.entry.name, content: p.name, snapshotHandle: p.handle }));
  if (!options.dryRun && now.length > 0) await createAndWait(deps, now, result, options.waitTimeoutMs);
  await findWrongHandles(deps.client, cluster, contents, entries, result);
  await findOrphans(deps, contents, entries, result);
  return result;
}

function emptyClusterResult(cluster: string, mode: ClusterSyncConfig['mode']): ClusterSyncResult {
  return {
    cluster,
    mode,
    receiving: 0,
    planned: [],
    created: [],
    alreadyThere: [],
    ready: 0,
    notReady: [],
    waiting: 0,
    repairs: [],
    driversMissing: [],
    wrongHandles: [],
    skipped: [],
    orphans: [],
    problems: [],
  };
}

function skip(result: ClusterSyncResult, backup: string, reason: string): void {
  result.skipped.push({ backup, reason });
}

/** The stored snapshots of the received backups that the cluster does not hold, by stored handle. */
async function lackedSnapshots(
  deps: ClusterSyncDeps,
  receiving: readonly CatalogEntry[],
  held: ReturnType<typeof heldContents>,
  result: ClusterSyncResult,
): Promise<Wanted[]> {
  const wanted: Wanted[] = [];
  for (const entry of receiving) {
    if (entry.snapshots === 0) continue;
    let stored = entry.contents;
    if (!stored) {
      try {
        stored = await deps.storedContents(entry.name);
      } catch (error) {
        skip(result, entry.name, `its CSI VolumeSnapshotContent list could not be read: ${(error as Error).message}`);
        continue;
      }
    }
    for (const content of stored) {
      if (!content.snapshotHandle) {
        skip(result, entry.name, `stored VolumeSnapshotContent ${content.name} has no status.snapshotHandle: there is no storage snapshot to point at`);
        continue;
      }
      if (!isHeld(held, entry.name, [content.snapshotHandle])) wanted.push({ entry, stored: { ...content, snapshotHandle: content.snapshotHandle } });
    }
  }
  return wanted;
}

/**
 * Turns each lacked snapshot into a content to create: the driver must be installed
 * (a CSIDriver and a VolumeSnapshotClass of it, else reported, never forced), and the
 * handle must pass its driver's rule (lib/csi/handles.ts); a wrong Longhorn handle is
 * repaired from the storage system's own records and the repair reported.
 */
async function plan(
  deps: ClusterSyncDeps,
  cluster: string,
  wanted: readonly Wanted[],
  held: ReturnType<typeof heldContents>,
  result: ClusterSyncResult,
): Promise<Planned[]> {
  const [classes, drivers] = await Promise.all([
    listAll<VolumeSnapshotClass>(deps.client, volumeSnapshotClassesPath()),
    listAll(deps.client, csiDriversPath()),
  ]);
  const installed = new Set(drivers.map((d) => d.metadata.name));
  const records = wanted.some((w) => hasStorageRecords(w.stored.driver)) ? await storageRecords(deps.client, result, cluster) : undefined;
  const planned: Planned[] = [];
  const missing = new Set<string>();
  const notes = new Set<string>();
  for (const w of wanted) {
    const { driver } = w.stored;
    const snapshotClass = classForSyncedContent(driver, classes);
    if (snapshotClass?.note && !notes.has(snapshotClass.note)) {
      notes.add(snapshotClass.note);
      result.problems.push(snapshotClass.note);
    }
    if (!installed.has(driver) || !snapshotClass) {
      const key = `${w.entry.name}\n${driver}`;
      if (!missing.has(key)) {
        missing.add(key);
        result.driversMissing.push({
          backup: w.entry.name,
          driver,
          message:
            `backup ${w.entry.name} has snapshots of driver ${driver}; cluster ${cluster} has no such driver ` +
            (installed.has(driver) ? '(no VolumeSnapshotClass of it)' : '(no CSIDriver object)'),
        });
      }
      continue;
    }
    const usable = usableHandle(w, records, cluster, result);
    if (usable === undefined) continue;
    const { handle, repair } = usable;
    // A content made with the repaired handle by an earlier run: nothing to do or report.
    if (repair && isHeld(held, w.entry.name, [handle])) continue;
    if (repair) result.repairs.push(repair);
    planned.push({ ...w, name: syncedContentName(w.entry.name, handle), handle, snapshotClass: snapshotClass.name });
  }
  return planned;
}

/** Longhorn's Backup records by name; undefined (and reported) when the cluster has none to read. */
async function storageRecords(client: KubeClient, result: ClusterSyncResult, cluster: string): Promise<Map<string, StorageBackupRecord> | undefined> {
  try {
    const objects = await listAll<KubeObject & { status?: { volumeName?: string } }>(client, LONGHORN_BACKUPS_PATH);
    const records = new Map<string, StorageBackupRecord>();
    for (const object of objects) {
      const record = longhornBackupRecord(object);
      if (record) records.set(record.backupName, record);
    }
    return records;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    result.problems.push(`cluster ${cluster} serves no backups.longhorn.io: Longhorn handles are checked for their shape only`);
    return undefined;
  }
}

/**
 * The handle to create with and the repair that gave it, or undefined (reported) when
 * the stored handle is wrong and cannot be repaired.
 */
function usableHandle(
  w: Wanted,
  records: ReadonlyMap<string, StorageBackupRecord> | undefined,
  cluster: string,
  result: ClusterSyncResult,
): { handle: string; repair?: HandleRepair } | undefined {
  const verdict = checkHandle(w.stored.driver, w.stored.snapshotHandle, records);
  if (verdict.kind === 'valid' || verdict.kind === 'unchecked') return { handle: verdict.handle };
  if (verdict.kind === 'wrong' && verdict.repair) {
    const repair: HandleRepair = {
      backup: w.entry.name,
      storedContent: w.stored.name,
      content: syncedContentName(w.entry.name, verdict.repair),
      oldHandle: verdict.handle,
      newHandle: verdict.repair,
      cluster,
      reason: verdict.reason,
    };
    return { handle: verdict.repair, repair };
  }
  skip(result, w.entry.name, `stored VolumeSnapshotContent ${w.stored.name} has handle ${verdict.handle} of driver ${w.stored.driver}: ${verdict.reason}; not made usable (a wrong handle restores nothing)`);
  return undefined;
}

/** Creates each content (409: already there, counted) and waits, bounded, for readiness. */
async function createAndWait(deps: ClusterSyncDeps, planned: readonly Planned[], result: ClusterSyncResult, timeoutMs: number): Promise<void> {
  const toWatch: Planned[] = [];
  await inParallel(planned, CREATE_CONCURRENCY, async (p) => {
    try {
      await deps.client.create(volumeSnapshotContentsPath(), contentFor(deps.location, p));
      result.created.push(p.name);
      toWatch.push(p);
    } catch (error) {
      if (isAlreadyExists(error)) {
        result.alreadyThere.push(p.name);
        toWatch.push(p);
      } else if (error instanceof KubeAmbiguousWriteError) {
        // The fixed name makes the next run's create a 409 if this one was applied.
        result.problems.push(`creating ${p.name} for backup ${p.entry.name} may or may not have been applied (${error.message}); the next run settles it`);
      } else {
        result.problems.push(`could not create ${p.name} for backup ${p.entry.name}: ${(error as Error).message}`);
      }
    }
  });
  if (toWatch.length === 0) return;
  const byName = new Map(toWatch.map((p) => [p.name, p]));
  const { settled, pending } = await watchByList<VolumeSnapshotContent, true>({
    list: () => listAll<VolumeSnapshotContent>(deps.client, volumeSnapshotContentsPath(), { labelSelector: BACKUP_NAME_LABEL }),
    keys: [...byName.keys()],
    keyOf: (c) => c.metadata.name,
    settle: (_, c) => (c?.status?.readyToUse === true ? true : undefined),
    clock: deps.clock,
    timeoutMs,
    what: `synced VolumeSnapshotContents in cluster ${deps.client.cluster}`,
  });
  result.ready = settled.size;
  for (const [name, content] of pending) {
    const p = byName.get(name)!;
    result.notReady.push({
      backup: p.entry.name,
      content: name,
      snapshotHandle: p.handle,
      error: content?.status?.error?.message ?? (content ? `not ready within ${Math.round(timeoutMs / 1000)}s` : 'not found after it was created'),
    });
  }
}

/** The static content for a stored snapshot (see the module comment). */
function contentFor(location: string, p: Planned) {
  return staticContentFor({
    name: p.name,
    driver: p.stored.driver,
    snapshotHandle: p.handle,
    deletionPolicy: 'Retain',
    volumeSnapshotRef: placeholderSnapshotRef(p.name),
    volumeSnapshotClassName: p.snapshotClass,
    labels: { [BACKUP_NAME_LABEL]: backupLabelValue(p.entry.name) },
    annotations: {
      [SOURCE_CLUSTER_ANNOTATION]: p.entry.cluster ?? 'unknown',
      [SOURCE_STORAGE_LOCATION_ANNOTATION]: location,
      [SOURCE_CONTENT_ANNOTATION]: p.stored.name,
    },
  });
}

/**
 * Checks the handles of the contents the cluster holds for catalogued backups
 * (source document 001: a Longhorn content written as `bs://<pvcName>/<backup>`
 * restores nothing elsewhere). Only contents whose handle already looks wrong by its
 * shape cost a LIST of the storage system's records, which then names the repair.
 */
async function findWrongHandles(
  client: KubeClient,
  cluster: string,
  contents: readonly VolumeSnapshotContent[],
  entries: readonly CatalogEntry[],
  result: ClusterSyncResult,
): Promise<void> {
  const catalogued = new Set(entries.map((e) => backupLabelValue(e.name)));
  const suspects = contents.flatMap((content) => {
    const backup = content.metadata.labels?.[BACKUP_NAME_LABEL];
    const handle = content.status?.snapshotHandle ?? content.spec.source?.snapshotHandle;
    if (backup === undefined || !catalogued.has(backup) || !handle) return [];
    const verdict = checkHandle(content.spec.driver, handle);
    return verdict.kind === 'wrong' || verdict.kind === 'malformed' ? [{ content, backup, handle }] : [];
  });
  if (suspects.length === 0) return;
  const records = suspects.some((s) => hasStorageRecords(s.content.spec.driver)) ? await storageRecords(client, result, cluster) : undefined;
  for (const { content, backup, handle } of suspects) {
    const verdict = checkHandle(content.spec.driver, handle, records);
    if (verdict.kind !== 'wrong' && verdict.kind !== 'malformed') continue;
    result.wrongHandles.push({
      content: content.metadata.name,
      backup,
      handle,
      reason: verdict.reason,
      ...(verdict.kind === 'wrong' && verdict.repair ? { repair: verdict.repair } : {}),
    });
  }
}

/** Contents labelled for a backup no location knows: reported, never deleted. */
async function findOrphans(
  deps: ClusterSyncDeps,
  contents: readonly VolumeSnapshotContent[],
  entries: readonly CatalogEntry[],
  result: ClusterSyncResult,
): Promise<void> {
  const held = heldContents(contents);
  const here = new Set(entries.map((e) => backupLabelValue(e.name)));
  if (orphanedBackupLabels(held, here).length === 0) return;
  const known = new Set([...here, ...(await deps.knownElsewhere())]);
  const orphaned = new Set(orphanedBackupLabels(held, known));
  for (const content of contents) {
    const label = content.metadata.labels?.[BACKUP_NAME_LABEL];
    if (label !== undefined && orphaned.has(label)) result.orphans.push({ content: content.metadata.name, backup: label });
  }
}
