import type { VolumeSnapshotContent } from '../csi/snapshot-api';
import { logger } from '../core/logger';
import type { BackupStore } from '../store/backup-store';
import type { Backup } from '../velero/backup';
import { parseResults, type BackupResults } from '../velero/results';
import { parseVolumeInfos, volumeOutcome, type BackupVolumeInfo, type VolumeOutcome } from '../velero/volume-info';
import type { BackupProgressRecord } from './progress-record';

/**
 * What `velero backup describe` shows beyond the Backup object, read the way it reads
 * it (pkg/cmd/util/output/backup_describer.go): the volumes from `<b>-volumeinfo.json.gz`,
 * the warning and error texts from `<b>-results.gz` (only when the backup has any), and
 * with details the resource list from `<b>-resource-list.json.gz`. A file that is missing
 * or damaged does not fail the description: as Velero prints `<error ...>` in its place,
 * the answer says what could not be read instead.
 */

/** One PVC in the backup's scope and what became of its volume. */
export interface BackupVolumeView {
  namespace: string;
  pvc: string;
  /** The PV it was bound to, when it was. */
  pv?: string;
  outcome: VolumeOutcome;
  /** How its data was backed up (Velero's backupMethod): CSISnapshot, NativeSnapshot, PodVolumeBackup. */
  method?: string;
  /** The VolumeSnapshotClass the snapshot was cut with (from the stored VolumeSnapshotContent). */
  snapshotClass?: string;
  driver?: string;
  /** The storage system's snapshot ID. */
  snapshotHandle?: string;
  volumeSnapshotContent?: string;
  sizeBytes?: number;
  /** Why it was skipped, or the error of a failed snapshot. */
  reason?: string;
}

/** What describe adds to a Backup; each part absent with a note saying why when it cannot be shown. */
export interface BackupDetails {
  /** Every PVC the backup accounted for, in the order the backup recorded them. */
  volumes?: BackupVolumeView[];
  /** Why `volumes` is absent: not recorded yet, not written (older Velero), unreadable. */
  volumesNote?: string;
  /** The warning and error texts, when the backup has any. */
  results?: BackupResults;
  resultsNote?: string;
  /** With details: Velero's resource list, `"<groupVersion>/<Kind>" -> ["ns/name" | "name"]`. */
  resourceList?: Record<string, string[]>;
  resourceListNote?: string;
}

/** A Backup as GET /backups/{name} and `skiff backup describe` show it. */
export type DescribedBackup = Backup & BackupDetails;

/**
 * The volume views of a backup's volume information, each snapshot's class taken from
 * its stored VolumeSnapshotContent (Velero's volume info has no class field); pure.
 */
export function volumeViews(infos: readonly BackupVolumeInfo[], contents: readonly VolumeSnapshotContent[]): BackupVolumeView[] {
  const classOf = new Map(contents.map((c) => [c.metadata.name, c.spec.volumeSnapshotClassName]));
  return infos.map((info) => {
    const csi = info.csiSnapshotInfo;
    const outcome = volumeOutcome(info);
    const view: BackupVolumeView = { namespace: info.pvcNamespace ?? '', pvc: info.pvcName ?? '', outcome };
    if (info.pvName) view.pv = info.pvName;
    if (info.backupMethod) view.method = info.backupMethod;
    if (csi) {
      const snapshotClass = classOf.get(csi.vscName);
      if (snapshotClass) view.snapshotClass = snapshotClass;
      Object.assign(view, { driver: csi.driver, snapshotHandle: csi.snapshotHandle, volumeSnapshotContent: csi.vscName, sizeBytes: csi.size });
    }
    if (outcome !== 'snapshotted' && info.skippedReason) view.reason = info.skippedReason;
    return view;
  });
}

/** The details of a backup that has not finished (running, paused or Failed), from its progress record. */
export function detailsOfRecord(record: BackupProgressRecord, details: boolean): BackupDetails {
  const out: BackupDetails = {};
  const snapshots = record.snapshots;
  if (snapshots) {
    out.volumes = volumeViews(parseVolumeInfos(snapshots.volumeInfos), snapshots.volumeSnapshotContents as VolumeSnapshotContent[]);
  } else {
    out.volumesNote = 'the volumes are not known yet: the backup has not finished its snapshots';
  }
  const { errors, warnings } = record.results;
  if (hasMessages(errors) || hasMessages(warnings)) out.results = record.results;
  if (details) out.resourceListNote = 'the resource list is written when the backup finishes';
  return out;
}

function hasMessages(result: BackupResults['errors']): boolean {
  return result.velero.length + result.cluster.length + Object.values(result.namespaces).flat().length > 0;
}

/** The details of a finished backup, from its files in the store; each read on its own. */
export async function detailsOfStoredBackup(store: BackupStore, backup: Backup, details: boolean): Promise<BackupDetails> {
  const name = backup.metadata.name;
  const keys = store.layout;
  const wantsResults = (backup.status.errors ?? 0) + (backup.status.warnings ?? 0) > 0;
  const [volumes, results, resourceList] = await Promise.all([
    readPart(name, 'backup volume info', async () => {
      const document = await store.getJson(keys.backupVolumeInfoKey(name));
      if (document === undefined) return undefined;
      const infos = parseVolumeInfos(document);
      // The class is read from the stored contents only when a snapshot needs it.
      const contents = infos.some((i) => i.csiSnapshotInfo) ? await store.getCsiVolumeSnapshotContents(name) : [];
      return volumeViews(infos, contents);
    }),
    wantsResults ? readPart(name, 'backup results', async () => {
      const document = await store.getJson(keys.backupResultsKey(name));
      return document === undefined ? undefined : parseResults(document, keys.backupResultsKey(name));
    }) : undefined,
    details ? readPart(name, 'backup resource list', async () => resourceListOf(await store.getJson(keys.backupResourceListKey(name)))) : undefined,
  ]);
  const out: BackupDetails = {};
  assign(out, 'volumes', 'volumesNote', volumes, '<backup volume info not found>');
  if (results) assign(out, 'results', 'resultsNote', results, '<backup results not found>');
  if (resourceList) assign(out, 'resourceList', 'resourceListNote', resourceList, '<backup resource list not found>');
  return out;
}

type Part<T> = { value: T | undefined } | { error: string };

async function readPart<T>(backup: string, what: string, read: () => Promise<T | undefined>): Promise<Part<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    logger.warn(`could not read the ${what}`, { backup, error });
    return { error: `<error reading ${what}: ${(error as Error).message}>` };
  }
}

function assign<K extends keyof BackupDetails, N extends keyof BackupDetails>(
  out: BackupDetails,
  key: K,
  noteKey: N,
  part: Part<NonNullable<BackupDetails[K]>>,
  missing: string,
): void {
  if ('error' in part) (out as Record<string, unknown>)[noteKey] = part.error;
  else if (part.value === undefined) (out as Record<string, unknown>)[noteKey] = missing;
  else (out as Record<string, unknown>)[key] = part.value;
}

/** A resource list document: an object of string lists. Throws a TypeError for anything else. */
function resourceListOf(document: unknown): Record<string, string[]> | undefined {
  if (document === undefined) return undefined;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new TypeError('not a JSON object');
  const list: Record<string, string[]> = {};
  for (const [key, names] of Object.entries(document)) {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new TypeError(`"${key}" is not a list of names`);
    list[key] = names as string[];
  }
  return list;
}
