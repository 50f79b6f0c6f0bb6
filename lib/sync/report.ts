import type { ClusterSyncConfig } from '../config';
import { logger } from '../core/logger';
import type { BackupStore } from '../store/backup-store';
import type { SkippedBackup } from './discover';

/**
 * What a sync run reports, per location and per cluster, and where it is kept: the
 * location's part at `metadata/skiff/sync-report.json`, each cluster's part at
 * `metadata/skiff/sync-reports/<cluster>.json`, so runs for different clusters at once
 * never overwrite each other and no write needs a read first.
 */

/**
 * A wrong handle replaced by the right one: in a content sync made from a stored one,
 * or in a content the cluster held (then retired, and its VolumeSnapshot replaced).
 */
export interface HandleRepair {
  backup: string;
  /** The VolumeSnapshotContent whose handle was wrong: the stored one, or the one in the cluster. */
  storedContent: string;
  /** The content made with the repaired handle. */
  content: string;
  /** The content in the cluster retired (Retain, backup label removed) in favour of `content`. */
  retired?: string;
  /** The VolumeSnapshot (namespace/name) made for `content`, where the wrong one had one. */
  volumeSnapshot?: string;
  oldHandle: string;
  newHandle: string;
  cluster: string;
  reason: string;
}

/** What one run did in one cluster. */
export interface ClusterSyncResult {
  cluster: string;
  mode: ClusterSyncConfig['mode'];
  /** Catalogued backups this cluster receives in its mode. */
  receiving: number;
  /** The contents this run makes (or, on a dry run, would make). */
  planned: { backup: string; content: string; snapshotHandle: string }[];
  /** Names of the contents created. */
  created: string[];
  /** Names of the contents whose create answered 409 (a parallel run made them). */
  alreadyThere: string[];
  /** How many of created and alreadyThere became ready within the wait. */
  ready: number;
  notReady: { backup: string; content: string; snapshotHandle: string; error: string }[];
  /** Contents left for the next runs by the cluster's maxContentsPerRun. */
  waiting: number;
  repairs: HandleRepair[];
  driversMissing: { backup: string; driver: string; message: string }[];
  /**
   * Contents already in the cluster, labelled for a catalogued backup, whose handle is
   * wrong for its driver: reported with the repaired handle when the storage system's
   * records give it; those with a repair are repaired (see repair.ts and `repairs`).
   */
  wrongHandles: { content: string; backup: string; handle: string; reason: string; repair?: string }[];
  skipped: SkippedBackup[];
  /** Contents labelled for a backup that exists in no location (never deleted). */
  orphans: { content: string; backup: string }[];
  problems: string[];
  /** Set when the cluster could not be synced at all (unreachable, a LIST refused). */
  failed?: string;
}

/** One cluster's stored report. */
export interface ClusterReport extends ClusterSyncResult {
  location: string;
  lastRun: string;
  durationMs: number;
}

/** The location's stored report: what its last discovery found. */
export interface LocationReport {
  location: string;
  lastRun: string;
  durationMs: number;
  found: number;
  new: string[];
  gone: string[];
  skipped: SkippedBackup[];
  catalogDamaged?: string;
  catalogNotWritten?: string;
  /** Set when the location could not be listed or its catalog read: nothing was changed. */
  failed?: string;
}

/**
 * Writes the reports of a run. Best effort, as Velero treats its last-synced time
 * (a failed patch is logged): the run's work is done whether or not its report is kept.
 */
export async function saveReports(store: BackupStore, location: LocationReport | undefined, clusters: readonly ClusterReport[]): Promise<void> {
  const writes: [string, unknown][] = [
    ...(location ? [[store.layout.syncReportKey(), location] as [string, unknown]] : []),
    ...clusters.map((c) => [store.layout.clusterSyncReportKey(c.cluster), c] as [string, unknown]),
  ];
  await Promise.all(
    writes.map(async ([key, report]) => {
      try {
        await store.putObject(key, JSON.stringify(report), { contentType: 'application/json' });
      } catch (error) {
        logger.warn('could not write a sync report', { key, storageLocation: store.location, error });
      }
    }),
  );
}

/** The stored reports of a location (undefined parts: no run has written them yet). */
export async function readReports(store: BackupStore): Promise<{ location?: LocationReport; clusters: ClusterReport[] }> {
  const [location, names] = await Promise.all([store.getJson(store.layout.syncReportKey()), store.listClusterSyncReports()]);
  const clusters = await Promise.all(names.map((name) => store.getJson(store.layout.clusterSyncReportKey(name))));
  return {
    ...(location ? { location: location as LocationReport } : {}),
    clusters: clusters.filter((c): c is ClusterReport => c !== undefined).sort((a, b) => a.cluster.localeCompare(b.cluster)),
  };
}
