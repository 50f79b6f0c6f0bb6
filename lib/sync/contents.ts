import type { ClusterSyncConfig } from '../config';
import type { Clock } from '../core/clock';
import { inParallel } from '../core/parallel';
import { staticContentFor } from '../csi/builders';
import { checkHandle, hasStorageRecords, type StorageBackupRecord } from '../csi/handles';
import { csiDriversPath, volumeSnapshotClassesPath, volumeSnapshotContentsPath, type VolumeSnapshotClass, type VolumeSnapshotContent } from '../csi/snapshot-api';
import { watchByList } from '../csi/watch';
import type { KubeClient } from '../kube/client';
import { isAlreadyExists, KubeAmbiguousWriteError } from '../kube/errors';
import { listAll } from '../kube/list-all';
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
import { findWrongHandles, repairWrongContents } from './repair';
import { storageRecords } from './storage-records';

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

/** A content this run waits for. */
export interface Watched {
  name: string;
  backup: string;
  snapshotHandle: string;
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
  const toWatch: Watched[] = options.dryRun ? [] : await createContents(deps, now, result);
  const wrong = await findWrongHandles(deps.client, cluster, contents, entries, result);
  if (!options.dryRun) toWatch.push(...(await repairWrongContents(deps.client, cluster, wrong, held, result)));
  await waitReady(deps, toWatch, result, options.waitTimeoutMs);
  await findOrphans(deps, contents, entries, result);
  return result;
}

/** A cluster's result before anything was done: every count zero, every list empty. */
export function emptyClusterResult(cluster: string, mode: ClusterSyncConfig['mode']): ClusterSyncResult {
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

/** Creates each content; 409 means a parallel or earlier run made it, and is counted. Returns what to wait for. */
async function createContents(deps: ClusterSyncDeps, planned: readonly Planned[], result: ClusterSyncResult): Promise<Watched[]> {
  const toWatch: Watched[] = [];
  await inParallel(planned, CREATE_CONCURRENCY, async (p) => {
    const watched = { name: p.name, backup: p.entry.name, snapshotHandle: p.handle };
    try {
      await deps.client.create(volumeSnapshotContentsPath(), contentFor(deps.location, p));
      result.created.push(p.name);
      toWatch.push(watched);
    } catch (error) {
      if (isAlreadyExists(error)) {
        result.alreadyThere.push(p.name);
        toWatch.push(watched);
      } else if (error instanceof KubeAmbiguousWriteError) {
        // The fixed name makes the next run's create a 409 if this one was applied.
        result.problems.push(`creating ${p.name} for backup ${p.entry.name} may or may not have been applied (${error.message}); the next run settles it`);
      } else {
        result.problems.push(`could not create ${p.name} for backup ${p.entry.name}: ${(error as Error).message}`);
      }
    }
  });
  return toWatch;
}

/** Waits, bounded, with one LIST per look, until the contents are ready; reports the rest with the driver's error. */
async function waitReady(deps: ClusterSyncDeps, toWatch: readonly Watched[], result: ClusterSyncResult, timeoutMs: number): Promise<void> {
  if (toWatch.length === 0) return;
  const byName = new Map(toWatch.map((w) => [w.name, w]));
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
    const w = byName.get(name)!;
    result.notReady.push({
      backup: w.backup,
      content: name,
      snapshotHandle: w.snapshotHandle,
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
