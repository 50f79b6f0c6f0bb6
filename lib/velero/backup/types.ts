import type { BackupSpec } from './spec';

/**
 * The velero.io/v1 Backup object as Velero defines it (pkg/apis/velero/v1/backup_types.go)
 * and stores it in `backups/<name>/velero-backup.json`.
 */

/** `apiVersion` of Velero's objects. */
export const VELERO_API_VERSION = 'velero.io/v1';
/** `kind` of a Backup object. */
export const BACKUP_KIND = 'Backup';
/** Namespace Velero is installed in by default; backups live there. */
export const DEFAULT_VELERO_NAMESPACE = 'velero';
/** `status.formatVersion` and the content of `metadata/version` in the tarball. */
export const BACKUP_FORMAT_VERSION = '1.1.0';
/** Deprecated `status.version` (the format's major version) that Velero still writes. */
export const BACKUP_MAJOR_VERSION = 1;

/**
 * Every phase Velero defines. Skiff itself uses a few of them, but it must understand all
 * of them when it reads backups Velero wrote.
 */
export const BACKUP_PHASES = [
  'New',
  'Queued',
  'ReadyToStart',
  'FailedValidation',
  'InProgress',
  'WaitingForPluginOperations',
  'WaitingForPluginOperationsPartiallyFailed',
  'Finalizing',
  'FinalizingPartiallyFailed',
  'Completed',
  'PartiallyFailed',
  'Failed',
  'Deleting',
] as const;
export type BackupPhase = (typeof BACKUP_PHASES)[number];

export interface BackupMetadata {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface BackupProgress {
  totalItems?: number;
  itemsBackedUp?: number;
}

/** Backup status; timestamps are RFC 3339 strings in UTC with second precision, as Velero writes them. */
export interface BackupStatus {
  version?: number;
  formatVersion?: string;
  expiration?: string;
  phase?: BackupPhase;
  queuePosition?: number;
  validationErrors?: string[];
  startTimestamp?: string;
  completionTimestamp?: string;
  volumeSnapshotsAttempted?: number;
  volumeSnapshotsCompleted?: number;
  failureReason?: string;
  warnings?: number;
  errors?: number;
  progress?: BackupProgress;
  csiVolumeSnapshotsAttempted?: number;
  csiVolumeSnapshotsCompleted?: number;
  backupItemOperationsAttempted?: number;
  backupItemOperationsCompleted?: number;
  backupItemOperationsFailed?: number;
  hookStatus?: { hooksAttempted?: number; hooksFailed?: number };
}

/** A velero.io/v1 Backup, JSON-shaped (what velero-backup.json holds). */
export interface Backup {
  apiVersion: typeof VELERO_API_VERSION;
  kind: typeof BACKUP_KIND;
  metadata: BackupMetadata;
  spec: BackupSpec;
  status: BackupStatus;
}

/** Formats a time as Kubernetes (metav1.Time) does: RFC 3339, UTC, whole seconds. */
