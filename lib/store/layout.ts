import { ValidationError } from '../core/errors';

/**
 * The only module that knows object-store keys, laid out as Velero lays them out
 * (pkg/persistence/object_store_layout.go), so that Velero and Skiff can share a bucket.
 *
 *   <root>backups/<b>/velero-backup.json           the Backup; its presence means "exists"
 *   <root>backups/<b>/<b>.tar.gz, <b>-logs.gz, <b>-resource-list.json.gz, <b>-results.gz, ...
 *   <root>restores/<r>/restore-<r>-logs.gz, restore-<r>-results.gz, ...
 *   <root>metadata/skiff/...                       Skiff's own bookkeeping
 *
 * `<root>` is the location's prefix followed by "/", or nothing.
 */

/**
 * The top-level folders Velero accepts under the root. It marks a backup location
 * unavailable when it finds any other, which is why Skiff's own keys live in metadata/.
 */
export const TOP_LEVEL_DIRS = ['backups', 'restores', 'restic', 'kopia', 'metadata', 'plugins'] as const;
export type TopLevelDir = (typeof TOP_LEVEL_DIRS)[number];

/** Every key Skiff reads or writes in a backup location. */
export interface ObjectStoreLayout {
  /** "" or "<prefix>/". */
  readonly root: string;
  /** `<root><dir>/`, for listing. */
  dirPrefix(dir: TopLevelDir): string;

  backupDir(backup: string): string;
  backupMetadataKey(backup: string): string;
  backupContentsKey(backup: string): string;
  backupLogKey(backup: string): string;
  backupResourceListKey(backup: string): string;
  backupResultsKey(backup: string): string;
  backupVolumeInfoKey(backup: string): string;
  backupItemOperationsKey(backup: string): string;
  csiVolumeSnapshotsKey(backup: string): string;
  csiVolumeSnapshotContentsKey(backup: string): string;
  csiVolumeSnapshotClassesKey(backup: string): string;
  /** Velero's file-system backups of a backup (read, never written, by Skiff). */
  podVolumeBackupsKey(backup: string): string;
  /** Velero's native (non-CSI) volume snapshots of a backup (read, never written, by Skiff). */
  volumeSnapshotsKey(backup: string): string;

  restoreDir(restore: string): string;
  restoreLogKey(restore: string): string;
  restoreResultsKey(restore: string): string;
  restoreResourceListKey(restore: string): string;
  restoreItemOperationsKey(restore: string): string;
  /** Note Velero's name: `<r>-volumeinfo.json.gz`, without the `restore-` prefix. */
  restoreVolumeInfoKey(restore: string): string;

  /**
   * Skiff's record of a restore (the Restore object, its progress and where a resumed
   * run goes on), kept for as long as the restore is listed; Velero keeps Restore
   * objects in the cluster, Skiff has no cluster of its own.
   */
  restoreRecordKey(restore: string): string;
  /** Where restore records live, for listing them. */
  restoreRecordsPrefix(): string;
  /** The restore name in a key listed under `restoreRecordsPrefix()`; undefined for anything else. */
  restoreNameFromRecordKey(key: string): string | undefined;

  /** Where Skiff keeps the state of backups it is still writing. */
  backupsInProgressPrefix(): string;
  backupInProgressKey(backup: string): string;
  /** The backup name in a key listed under `backupsInProgressPrefix()`; undefined for anything else. */
  backupNameFromInProgressKey(key: string): string | undefined;
  /**
   * Part `part` (from 1) of the resource list of a backup being written: the objects of
   * one tarball part, kept apart so the progress record stays small however large the
   * backup grows.
   */
  backupResourceListPartKey(backup: string, part: number): string;

  /** Skiff's catalog of the location's backups (rediscovery reads it instead of every velero-backup.json). */
  catalogKey(): string;
  /** The marker that says a backup is being deleted; sync does not bring such a backup back. */
  deletionMarkerKey(backup: string): string;
  /** Where deletion markers live, for listing them. */
  deletionMarkersPrefix(): string;
  /** The backup name in a key listed under `deletionMarkersPrefix()`; undefined for anything else. */
  backupNameFromDeletionMarkerKey(key: string): string | undefined;
  /** The last rediscovery run's report for this location (what it found in the bucket). */
  syncReportKey(): string;
  /** The slots of a schedule that were not started because a readiness check blocked them (one document per schedule). */
  skippedSlotsKey(schedule: string): string;
  /**
   * The last rediscovery run's report for one cluster of this location: a key of its
   * own, so that runs for different clusters at once never overwrite each other.
   */
  clusterSyncReportKey(cluster: string): string;
  /** Where the per-cluster sync reports live, for listing them. */
  clusterSyncReportsPrefix(): string;
  /** The cluster name in a key listed under `clusterSyncReportsPrefix()`; undefined for anything else. */
  clusterNameFromSyncReportKey(key: string): string | undefined;

  /**
   * A short-lived object the location check writes and deletes again to prove that the
   * location is writable and honours conditional writes (`id`: unique per check, so
   * checks at once never touch each other's object).
   */
  writeProbeKey(id: string): string;

  /**
   * The backup name in a common prefix returned when listing `dirPrefix('backups')` with
   * delimiter "/" (`<root>backups/<b>/`); undefined for anything else.
   */
  backupNameFromPrefix(commonPrefix: string): string | undefined;
  /**
   * The top-level folders Velero would refuse, given the common prefixes returned when
   * listing `root` with delimiter "/".
   */
  invalidTopLevelDirs(commonPrefixes: readonly string[]): string[];
}

function assertName(kind: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) {
    throw new ValidationError(`${kind} name`, [
      { path: 'name', message: `${JSON.stringify(name)} cannot be used in an object key: it must be non-empty, not "." or "..", without "/"` },
    ]);
  }
}

/**
 * Normalises a location prefix: trailing slashes are dropped (Velero adds exactly one).
 * A leading slash or an empty segment is refused rather than guessed at: Velero would
 * write such keys differently, and Skiff must find the same objects Velero wrote.
 */
function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return '';
  const problems: string[] = [];
  if (trimmed.startsWith('/')) problems.push('must not start with "/"');
  if (trimmed.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    problems.push('must not contain empty, "." or ".." segments (as in "a//b")');
  }
  if (problems.length > 0) {
    throw new ValidationError('object store prefix', [
      { path: 'prefix', message: `${JSON.stringify(prefix)} ${problems.join(' and ')}; write it like "clusters/prod"` },
    ]);
  }
  return `${trimmed}/`;
}

/** Builds the key layout for a location whose prefix is `prefix` (may be empty). */
export function objectStoreLayout(prefix = ''): ObjectStoreLayout {
  const root = normalisePrefix(prefix);
  const dir = (name: TopLevelDir) => `${root}${name}/`;
  const inBackup = (backup: string, file: string) => {
    assertName('backup', backup);
    return `${dir('backups')}${backup}/${file}`;
  };
  const inRestore = (restore: string, file: string) => {
    assertName('restore', restore);
    return `${dir('restores')}${restore}/${file}`;
  };
  const inProgress = `${dir('metadata')}skiff/backups-in-progress/`;
  const deleting = `${dir('metadata')}skiff/deleting/`;
  const syncReports = `${dir('metadata')}skiff/sync-reports/`;
  const restoreRecords = `${dir('metadata')}skiff/restores/`;
  const nameIn = (folder: string, key: string) => {
    if (!key.startsWith(folder) || !key.endsWith('.json')) return undefined;
    const name = key.slice(folder.length, -'.json'.length);
    return name === '' || name.includes('/') ? undefined : name;
  };

  return {
    root,
    dirPrefix: dir,

    backupDir: (b) => inBackup(b, ''),
    backupMetadataKey: (b) => inBackup(b, 'velero-backup.json'),
    backupContentsKey: (b) => inBackup(b, `${b}.tar.gz`),
    backupLogKey: (b) => inBackup(b, `${b}-logs.gz`),
    backupResourceListKey: (b) => inBackup(b, `${b}-resource-list.json.gz`),
    backupResultsKey: (b) => inBackup(b, `${b}-results.gz`),
    backupVolumeInfoKey: (b) => inBackup(b, `${b}-volumeinfo.json.gz`),
    backupItemOperationsKey: (b) => inBackup(b, `${b}-itemoperations.json.gz`),
    csiVolumeSnapshotsKey: (b) => inBackup(b, `${b}-csi-volumesnapshots.json.gz`),
    csiVolumeSnapshotContentsKey: (b) => inBackup(b, `${b}-csi-volumesnapshotcontents.json.gz`),
    csiVolumeSnapshotClassesKey: (b) => inBackup(b, `${b}-csi-volumesnapshotclasses.json.gz`),
    podVolumeBackupsKey: (b) => inBackup(b, `${b}-podvolumebackups.json.gz`),
    volumeSnapshotsKey: (b) => inBackup(b, `${b}-volumesnapshots.json.gz`),

    restoreDir: (r) => inRestore(r, ''),
    restoreLogKey: (r) => inRestore(r, `restore-${r}-logs.gz`),
    restoreResultsKey: (r) => inRestore(r, `restore-${r}-results.gz`),
    restoreResourceListKey: (r) => inRestore(r, `restore-${r}-resource-list.json.gz`),
    restoreItemOperationsKey: (r) => inRestore(r, `restore-${r}-itemoperations.json.gz`),
    restoreVolumeInfoKey: (r) => inRestore(r, `${r}-volumeinfo.json.gz`),

    restoreRecordKey: (r) => {
      assertName('restore', r);
      return `${restoreRecords}${r}.json`;
    },
    restoreRecordsPrefix: () => restoreRecords,
    restoreNameFromRecordKey: (key) => nameIn(restoreRecords, key),

    backupsInProgressPrefix: () => inProgress,
    backupInProgressKey: (b) => {
      assertName('backup', b);
      return `${inProgress}${b}.json`;
    },
    backupResourceListPartKey: (b, part) => {
      assertName('backup', b);
      return `${dir('metadata')}skiff/resource-lists-in-progress/${b}/${String(part).padStart(5, '0')}.json.gz`;
    },
    backupNameFromInProgressKey: (key) => nameIn(inProgress, key),

    catalogKey: () => `${dir('metadata')}skiff/catalog.json`,
    deletionMarkerKey: (b) => {
      assertName('backup', b);
      return `${deleting}${b}.json`;
    },
    deletionMarkersPrefix: () => deleting,
    backupNameFromDeletionMarkerKey: (key) => nameIn(deleting, key),
    syncReportKey: () => `${dir('metadata')}skiff/sync-report.json`,
    skippedSlotsKey: (schedule) => {
      assertName('schedule', schedule);
      return `${dir('metadata')}skiff/skipped-slots/${schedule}.json`;
    },
    clusterSyncReportKey: (cluster) => {
      assertName('cluster', cluster);
      return `${syncReports}${cluster}.json`;
    },
    clusterSyncReportsPrefix: () => syncReports,
    clusterNameFromSyncReportKey: (key) => nameIn(syncReports, key),

    writeProbeKey: (id) => {
      assertName('probe', id);
      return `${dir('metadata')}skiff/write-probes/${id}`;
    },

    backupNameFromPrefix(commonPrefix) {
      const backups = dir('backups');
      if (!commonPrefix.startsWith(backups)) return undefined;
      const name = commonPrefix.slice(backups.length).replace(/\/$/, '');
      if (name === '' || name.includes('/')) return undefined;
      return name;
    },

    invalidTopLevelDirs(commonPrefixes) {
      const allowed: ReadonlySet<string> = new Set(TOP_LEVEL_DIRS);
      return commonPrefixes
        .filter((p) => p.startsWith(root))
        .map((p) => p.slice(root.length).replace(/\/$/, ''))
        .filter((name) => !allowed.has(name));
    },
  };
}
