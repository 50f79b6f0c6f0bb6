import { formatTime } from './backup';

/**
 * `<b>-volumeinfo.json.gz`: what happened to each volume of a backup, in Velero's
 * BackupVolumeInfo shape (internal/volume/volumes_information.go). Velero's restore
 * and `velero backup describe` read it, so field names, Go's field order and Go's
 * omitempty rules are kept exactly, including the untagged `ReadyToUse`, which Go
 * writes under its field name.
 */

/** How a volume's data was backed up; Skiff only takes CSI snapshots. */
export type VolumeBackupMethod = 'NativeSnapshot' | 'PodVolumeBackup' | 'CSISnapshot';
/** Whether the volume's data was backed up. */
export type VolumeResult = 'succeeded' | 'failed';

/** The CSI snapshot of a volume: Velero's CSISnapshotInfo. */
export interface CsiSnapshotInfo {
  /** The storage system's snapshot ID (the content's status.snapshotHandle). */
  snapshotHandle: string;
  /** Restore size in bytes. */
  size: number;
  driver: string;
  vscName: string;
  operationID?: string;
  /** The VolumeSnapshot's status.readyToUse; Go writes null when unknown. */
  ReadyToUse: boolean | null;
  volumeGroupSnapshotHandle?: string;
}

/** PV details that are lost when the PV is recreated. */
export interface PvInfo {
  reclaimPolicy: string;
  /** Go writes null for a PV without labels. */
  labels: Record<string, string> | null;
}

/** One volume of a backup: Velero's BackupVolumeInfo. */
export interface BackupVolumeInfo {
  pvcName?: string;
  pvcNamespace?: string;
  pvName?: string;
  backupMethod?: VolumeBackupMethod;
  snapshotDataMoved: boolean;
  preserveLocalSnapshot: boolean;
  skipped: boolean;
  skippedReason?: string;
  /** RFC 3339, whole seconds. */
  startTimestamp?: string;
  completionTimestamp?: string;
  result?: VolumeResult;
  csiSnapshotInfo?: CsiSnapshotInfo;
  /** Written by Velero's data mover, file-system backup and native snapshots; kept as read. */
  snapshotDataMovementInfo?: Record<string, unknown>;
  nativeSnapshotInfo?: Record<string, unknown>;
  pvbInfo?: Record<string, unknown>;
  pvInfo?: PvInfo;
}

/** The PV a volume info describes: what PvInfo keeps of it. */
export interface VolumeInfoPv {
  name: string;
  reclaimPolicy?: string;
  labels?: Record<string, string>;
}

function pvInfo(pv: VolumeInfoPv): PvInfo {
  return { reclaimPolicy: pv.reclaimPolicy ?? '', labels: pv.labels && Object.keys(pv.labels).length > 0 ? pv.labels : null };
}

/** What csiSnapshotVolumeInfo needs to know about a snapshot. */
export interface CsiSnapshotVolumeInfoInput {
  pvcNamespace: string;
  pvcName: string;
  pv: VolumeInfoPv;
  snapshotHandle: string;
  sizeBytes: number;
  driver: string;
  vscName: string;
  readyToUse: boolean | undefined;
  /** When the snapshot was cut (the VolumeSnapshot's status.creationTime), as Velero records it. */
  startTimestamp?: string;
  completedAt: Date;
}

/**
 * The entry of a volume with a CSI snapshot that stays in the cluster (no data
 * movement), as Velero writes it once the snapshot is ready: the local snapshot is
 * preserved and the result is `succeeded`.
 */
export function csiSnapshotVolumeInfo(input: CsiSnapshotVolumeInfoInput): BackupVolumeInfo {
  return {
    pvcName: input.pvcName,
    pvcNamespace: input.pvcNamespace,
    pvName: input.pv.name,
    backupMethod: 'CSISnapshot',
    snapshotDataMoved: false,
    preserveLocalSnapshot: true,
    skipped: false,
    startTimestamp: input.startTimestamp,
    completionTimestamp: formatTime(input.completedAt),
    result: 'succeeded',
    csiSnapshotInfo: {
      snapshotHandle: input.snapshotHandle,
      size: input.sizeBytes,
      driver: input.driver,
      vscName: input.vscName,
      ReadyToUse: input.readyToUse ?? null,
    },
    pvInfo: pvInfo(input.pv),
  };
}

/** What skippedVolumeInfo and failedVolumeInfo need: the PVC, its PV when it has one, and why. */
export interface UnprotectedVolumeInput {
  pvcNamespace: string;
  pvcName: string;
  /** Absent for a PVC that is not bound, or bound to a PV that does not exist. */
  pv?: VolumeInfoPv;
  /** The name the PVC is bound to (spec.volumeName), used when the PV itself is not known. */
  volumeName?: string;
  reason: string;
}

/**
 * The entry of a volume whose data the backup left out, with the reason, as Velero's
 * generateVolumeInfoForSkippedPV writes it (no backupMethod: Velero's restore then
 * treats the PV as one without a snapshot). Velero records skipped PVs only; Skiff
 * also records PVCs without a PV (unbound, Lost), so that every PVC in the backup's
 * scope is accounted for; such entries have no pvName, which Velero's restore (keyed
 * by PV name) never looks up.
 */
export function skippedVolumeInfo(input: UnprotectedVolumeInput): BackupVolumeInfo {
  return {
    pvcName: input.pvcName,
    pvcNamespace: input.pvcNamespace,
    pvName: input.pv?.name ?? input.volumeName,
    snapshotDataMoved: false,
    preserveLocalSnapshot: false,
    skipped: true,
    skippedReason: input.reason,
    ...(input.pv ? { pvInfo: pvInfo(input.pv) } : {}),
  };
}

/**
 * The entry of a volume whose snapshot was attempted and failed: its data is not in the
 * backup (skipped, with the error as the reason) and `result` is `failed`, which tells it
 * apart from a volume skipped on purpose. No backupMethod and no csiSnapshotInfo: the
 * VolumeSnapshot was taken back, and Velero's restore must not look for one.
 */
export function failedVolumeInfo(input: UnprotectedVolumeInput): BackupVolumeInfo {
  return { ...skippedVolumeInfo(input), result: 'failed' };
}

/** What became of a volume, read from its volume info. */
export type VolumeOutcome = 'snapshotted' | 'skipped' | 'failed';

/**
 * A volume info entry's outcome: `failed` when its result says so, `skipped` when its
 * data was left out, else `snapshotted` (its data is in a snapshot or a data upload).
 */
export function volumeOutcome(info: Pick<BackupVolumeInfo, 'skipped' | 'result'>): VolumeOutcome {
  if (info.result === 'failed') return 'failed';
  return info.skipped ? 'skipped' : 'snapshotted';
}

/**
 * Reads `<b>-volumeinfo.json.gz` (already gunzipped and JSON-parsed), written by Velero
 * or Skiff. Lenient as Go's decoder is: unknown fields are ignored, and an entry that is
 * not an object is left out. Throws a TypeError when the document is not a JSON array.
 */
export function parseVolumeInfos(document: unknown): BackupVolumeInfo[] {
  if (document === null) return [];
  if (!Array.isArray(document)) throw new TypeError('volume info is not a JSON array');
  return document
    .filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && !Array.isArray(entry))
    .map((entry) => ({ ...entry, snapshotDataMoved: entry.snapshotDataMoved === true, preserveLocalSnapshot: entry.preserveLocalSnapshot === true, skipped: entry.skipped === true }) as BackupVolumeInfo);
}

const VOLUME_INFO_ORDER = [
  'pvcName',
  'pvcNamespace',
  'pvName',
  'backupMethod',
  'snapshotDataMoved',
  'preserveLocalSnapshot',
  'skipped',
  'skippedReason',
  'startTimestamp',
  'completionTimestamp',
  'result',
  'csiSnapshotInfo',
  'snapshotDataMovementInfo',
  'nativeSnapshotInfo',
  'pvbInfo',
  'pvInfo',
] as const;
/** Fields Go writes even when empty (no omitempty). */
const ALWAYS_WRITTEN = new Set(['snapshotDataMoved', 'preserveLocalSnapshot', 'skipped']);

function isOmitted(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function csiInfoForJson(info: CsiSnapshotInfo): Record<string, unknown> {
  return {
    snapshotHandle: info.snapshotHandle,
    size: info.size,
    driver: info.driver,
    vscName: info.vscName,
    ...(info.operationID ? { operationID: info.operationID } : {}),
    ReadyToUse: info.ReadyToUse,
    ...(info.volumeGroupSnapshotHandle ? { volumeGroupSnapshotHandle: info.volumeGroupSnapshotHandle } : {}),
  };
}

function sortedLabels(labels: Record<string, string> | null): Record<string, string> | null {
  if (labels === null) return null;
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function volumeInfoForJson(info: BackupVolumeInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of VOLUME_INFO_ORDER) {
    const value = info[key];
    if (!ALWAYS_WRITTEN.has(key) && isOmitted(value)) continue;
    if (key === 'csiSnapshotInfo') out[key] = csiInfoForJson(value as CsiSnapshotInfo);
    else if (key === 'pvInfo') {
      const pv = value as PvInfo;
      out[key] = { reclaimPolicy: pv.reclaimPolicy, labels: sortedLabels(pv.labels) };
    } else out[key] = value ?? false;
  }
  return out;
}

/** The content of `<b>-volumeinfo.json.gz` (before gzip): one JSON line, as Go's encoder writes it. */
export function serializeVolumeInfos(infos: readonly BackupVolumeInfo[]): string {
  return `${JSON.stringify(infos.map(volumeInfoForJson))}\n`;
}
