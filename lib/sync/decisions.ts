import { createHash } from 'node:crypto';
import type { ClusterSyncConfig } from '../config';
import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import type { CatalogEntry } from '../store/catalog';
import { snapshotClassForDriver, type VolumeSnapshotClassLike } from '../csi/snapshot-class';
import { backupLabelValue, BACKUP_NAME_LABEL } from '../velero/labels';

/**
 * Rediscovery's decisions, as pure functions: which stored backups are new or gone,
 * which backups a cluster receives, what a synced content is named, and whether a
 * cluster already holds a stored snapshot. The I/O lives in discover.ts and contents.ts.
 */

/** What a listing of backups/ means for the catalog. */
export interface BackupsToSync {
  /** Listed but not catalogued: read their velero-backup.json and CSI list (sorted). */
  toFetch: string[];
  /** Catalogued but no longer listed: they leave the catalog (sorted). */
  gone: string[];
}

/**
 * The set differences Velero's backup sync takes (pkg/controller/backup_sync_controller.go:
 * `backupStoreBackups.Difference(clusterBackupsSet)`), against the catalog instead of
 * a cluster's Backup objects, and the other way round for what is gone.
 */
export function backupsToSync(stored: readonly string[], known: Iterable<string>): BackupsToSync {
  const storedSet = new Set(stored);
  const knownSet = new Set(known);
  return {
    toFetch: [...storedSet].filter((name) => !knownSet.has(name)).sort(),
    gone: [...knownSet].filter((name) => !storedSet.has(name)).sort(),
  };
}

/** Whether a cluster in `mode` receives a catalogued backup (see clusterSyncSchema). */
export function receivesBackup(mode: ClusterSyncConfig['mode'], cluster: string, entry: Pick<CatalogEntry, 'cluster'>): boolean {
  if (mode === 'all') return true;
  if (mode === 'own') return entry.cluster === cluster;
  return false;
}

/**
 * The order contents are made in when a run's cap leaves some for later: the newest
 * backups first (a disaster recovery wants the latest state soonest), then by name.
 */
export function newestFirst(a: Pick<CatalogEntry, 'name' | 'startTimestamp'>, b: Pick<CatalogEntry, 'name' | 'startTimestamp'>): number {
  const byTime = (b.startTimestamp ?? '').localeCompare(a.startTimestamp ?? '');
  return byTime !== 0 ? byTime : a.name.localeCompare(b.name);
}

/**
 * The name of the content sync makes for a backup's snapshot: derived from the backup
 * and the handle, so a second or parallel run sends the same create and gets 409
 * AlreadyExists instead of making a second content, with no read before the write.
 */
export function syncedContentName(backup: string, snapshotHandle: string): string {
  const digest = createHash('sha256').update(`${backup}\n${snapshotHandle}`).digest('hex');
  return `skiff-sync-${digest.slice(0, 32)}`;
}

/**
 * The VolumeSnapshot a synced content points at until something claims it: one that
 * does not exist, in the `default` namespace, which every cluster has. With no uid the
 * snapshot-controller treats the content as pre-bound and leaves it alone. Velero's
 * placeholder (`ns-<uid>` / `name-<uid>`, pkg/util/csi/volume_snapshot.go) names a
 * namespace that does not exist; ours must exist, because expiry frees a synced
 * storage snapshot by creating a VolumeSnapshot at this very name (the
 * snapshot-controller only deletes the storage snapshot of a content it holds, and it
 * holds only bound ones), and a VolumeSnapshot needs its namespace.
 */
export function placeholderSnapshotRef(contentName: string): { namespace: string; name: string } {
  return { namespace: 'default', name: `name-${contentName}` };
}

/** What a cluster already holds, indexed for `isHeld`. */
export interface HeldContents {
  names: ReadonlySet<string>;
  /** Snapshot handles (source and status) of the contents labelled for each backup label value. */
  handlesByBackup: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Indexes a cluster's VolumeSnapshotContents by name and by (backup label, handle). */
export function heldContents(contents: readonly VolumeSnapshotContent[]): HeldContents {
  const names = new Set<string>();
  const handlesByBackup = new Map<string, Set<string>>();
  for (const content of contents) {
    names.add(content.metadata.name);
    const backup = content.metadata.labels?.[BACKUP_NAME_LABEL];
    if (backup === undefined) continue;
    let handles = handlesByBackup.get(backup);
    if (!handles) handlesByBackup.set(backup, (handles = new Set()));
    for (const handle of [content.spec.source?.snapshotHandle, content.status?.snapshotHandle]) if (handle) handles.add(handle);
  }
  return { names, handlesByBackup };
}

/**
 * Whether the cluster holds a backup's stored snapshot: a content of the name sync would
 * give it, or a content labelled for the backup with one of `handles` (the backup's own
 * dynamic content in the cluster that made it, or a content made before a repair).
 */
export function isHeld(held: HeldContents, backup: string, handles: readonly string[]): boolean {
  if (handles.some((handle) => held.names.has(syncedContentName(backup, handle)))) return true;
  const labelled = held.handlesByBackup.get(backupLabelValue(backup));
  return labelled !== undefined && handles.some((handle) => labelled.has(handle));
}

/** The first `cap` items to make now, and how many wait for the next runs. */
export function capped<T>(items: readonly T[], cap: number): { now: T[]; waiting: number } {
  return { now: items.slice(0, cap), waiting: Math.max(0, items.length - cap) };
}

/**
 * Backup label values found on a cluster's contents that name no backup known
 * anywhere: their contents are orphans (reported, never deleted: the snapshot may still
 * be wanted). `known` holds label values, as backupLabelValue makes them.
 */
export function orphanedBackupLabels(held: HeldContents, known: ReadonlySet<string>): string[] {
  return [...held.handlesByBackup.keys()].filter((label) => !known.has(label)).sort();
}

/**
 * The VolumeSnapshotClass a synced content names: the driver's class by Velero's rules
 * (snapshotClassForDriver), else, when the driver has several and none is chosen, one
 * of them with a note, preferring deletionPolicy Retain, then the first by name. The
 * class of a static content only tells the driver which parameters (e.g. deletion
 * secrets) go with the snapshot, and a content without one would be left without them,
 * so an ambiguous choice is made and said rather than the snapshot left unusable.
 * Undefined when the cluster has no class of the driver: the driver is missing there.
 */
export function classForSyncedContent(
  driver: string,
  classes: readonly (VolumeSnapshotClassLike & { deletionPolicy?: string })[],
): { name: string; note?: string } | undefined {
  const chosen = snapshotClassForDriver(driver, classes).snapshotClass;
  if (chosen) return { name: chosen.metadata.name };
  const ofDriver = classes
    .filter((c) => c.driver === driver)
    .sort((a, b) => Number(b.deletionPolicy === 'Retain') - Number(a.deletionPolicy === 'Retain') || a.metadata.name.localeCompare(b.metadata.name));
  const first = ofDriver[0];
  if (!first) return undefined;
  return {
    name: first.metadata.name,
    note:
      `${ofDriver.length} VolumeSnapshotClasses have driver ${driver} (${ofDriver.map((c) => c.metadata.name).join(', ')}) and none is chosen; ` +
      `synced contents name ${first.metadata.name}. Label one velero.io/csi-volumesnapshot-class to choose`,
  };
}
