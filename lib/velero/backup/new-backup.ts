import { ValidationError, type FieldIssue } from '../../core/errors';
import { durationToMilliseconds } from '../duration';
import { dns1123LabelIssues, dns1123SubdomainIssues } from '../names';
import { STORAGE_LOCATION_LABEL, SCHEDULE_NAME_LABEL } from '../labels';
import { validLabelValue } from '../names';
import { VELERO_DEFAULTS, type BackupDefaults } from './defaults';
import { parseBackupSpec, tryParseDurationOrThrow, type BackupSpec } from './spec';
import { BACKUP_FORMAT_VERSION, BACKUP_KIND, BACKUP_MAJOR_VERSION, DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION, type Backup, type BackupMetadata } from './types';

export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What newBackup needs; `now` is the start time (expiration is now + ttl). */
export interface NewBackupOptions {
  name: string;
  namespace?: string;
  spec?: unknown;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set for backups a schedule created; becomes the velero.io/schedule-name label. */
  scheduleName?: string;
  now: Date;
  defaults?: BackupDefaults;
}

/**
 * Builds a Backup the way Velero's controller prepares one: spec validated and defaulted,
 * storage-location (and schedule) labels, format version, start time and expiration
 * (start + ttl), phase InProgress. Throws a ValidationError for a bad name or spec.
 */
export function newBackup(options: NewBackupOptions): Backup {
  const namespace = options.namespace ?? DEFAULT_VELERO_NAMESPACE;
  const issues: FieldIssue[] = [
    ...dns1123SubdomainIssues(options.name).map((m) => ({ path: 'metadata.name', message: `"${options.name}" ${m}` })),
    ...dns1123LabelIssues(namespace).map((m) => ({ path: 'metadata.namespace', message: `"${namespace}" ${m}` })),
  ];
  if (issues.length > 0) throw new ValidationError('backup', issues);

  const spec = parseBackupSpec(options.spec, { defaults: options.defaults, source: `backup "${options.name}" spec` });
  const labels: Record<string, string> = { ...options.labels };
  labels[STORAGE_LOCATION_LABEL] = validLabelValue(spec.storageLocation ?? VELERO_DEFAULTS.storageLocation);
  if (options.scheduleName !== undefined) labels[SCHEDULE_NAME_LABEL] = options.scheduleName;

  const ttlMs = durationToMilliseconds(tryParseDurationOrThrow(spec.ttl ?? VELERO_DEFAULTS.ttl));
  const metadata: BackupMetadata = {
    name: options.name,
    namespace,
    creationTimestamp: formatTime(options.now),
    labels,
  };
  if (options.annotations && Object.keys(options.annotations).length > 0) {
    metadata.annotations = { ...options.annotations };
  }
  return {
    apiVersion: VELERO_API_VERSION,
    kind: BACKUP_KIND,
    metadata,
    spec,
    status: {
      version: BACKUP_MAJOR_VERSION,
      formatVersion: BACKUP_FORMAT_VERSION,
      expiration: formatTime(new Date(options.now.getTime() + ttlMs)),
      phase: 'InProgress',
      startTimestamp: formatTime(options.now),
    },
  };
}

/**
 * Whether a backup's time is up, as Velero's garbage collector decides it: it has an
 * expiration and that moment is not after `now`. A backup without one never expires.
 */
export function isExpired(backup: Pick<Backup, 'status'>, now: Date): boolean {
  const expiration = backup.status.expiration;
  if (expiration === undefined) return false;
  return Date.parse(expiration) <= now.getTime();
}
