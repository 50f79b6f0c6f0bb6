import type { Backup } from '../velero/backup';
import type { BackupResults } from '../velero/results';
import type { UploadedPart } from '../store/multipart';
import type { TypeCursor } from './collect';

/**
 * Everything a backup needs to go on after its function was stopped (15-minute
 * limit, crash): kept under metadata/ in the bucket, never where Velero looks, and
 * replaced by velero-backup.json only once the backup is complete. It is also what
 * GET /backups/{name} shows while the backup runs.
 */
export interface BackupProgressRecord {
  /** The Backup as it will be written, with live status (phase, progress, counts). */
  backup: Backup;
  cluster: string;
  stage: 'New' | 'Snapshots' | 'Resources' | 'Finalizing' | 'Done' | 'Failed';
  /** Who runs it now and until when; another invocation takes over only after that. */
  lease?: { owner: string; until: string };
  /** How many invocations have worked on it; a runaway backup is stopped by this. */
  attempts: number;
  /** While the snapshot stage runs: how far its VolumeSnapshots are (see progress-view.ts). */
  snapshotProgress?: SnapshotProgress;
  snapshots?: SnapshotStageResult;
  tarball?: TarballState;
  results: BackupResults;
  log: string[];
}

/** How far the snapshot stage is: PVCs that get a snapshot, VolumeSnapshots created, ready and failed. */
export interface SnapshotProgress {
  total: number;
  attempted: number;
  completed: number;
  failed: number;
}

/** What the snapshot stage leaves for the tarball and the CSI lists. */
export interface SnapshotStageResult {
  /** For the CSI lists, as they are in the cluster. */
  volumeSnapshots: unknown[];
  volumeSnapshotContents: unknown[];
  volumeSnapshotClasses: unknown[];
  /** The same objects as the tarball holds them (Velero's item actions applied). */
  tarballItems: unknown[];
  /** Labels and annotations Velero adds to each snapshotted PVC in the tarball, by `namespace/name`. */
  pvcAdditions: Record<string, { labels: Record<string, string>; annotations: Record<string, string> }>;
  volumeInfos: unknown[];
  attempted: number;
  completed: number;
  /** PV names bound to included PVCs (Velero backs these up as related items). */
  relatedPersistentVolumes: string[];
}

/** The tarball upload at its last checkpoint: everything listed here is in `parts`. */
export interface TarballState {
  uploadId: string;
  parts: UploadedPart[];
  cursors: Record<string, TypeCursor>;
  itemsBackedUp: number;
  /** Objects in `parts` not in a stored resource-list part (see resource-list-parts.ts). */
  resourceList: Record<string, string[]>;
  /** How many resource-list parts are stored (numbered from 1); absent in older records. */
  resourceListParts?: number;
  namespacesSeen: string[];
  /** Group-resources with listed objects in `parts`, for adding their CRDs at the end (absent in older records). */
  listedTypesBackedUp?: string[];
  /** Whether the fixed entries (metadata/version, snapshot objects) are already in `parts`. */
  preambleWritten: boolean;
  /**
   * Whether every served version of each type is listed (EnableAPIGroupVersions),
   * fixed when the upload starts so a resumed run lists what the first one did;
   * absent means preferred versions only.
   */
  allApiGroupVersions?: boolean;
}
