import type { ScheduleConfig, SkiffConfig } from '../config';
import type { SkippedSlot } from '../store/skipped-slots';
import { DEFAULT_VELERO_NAMESPACE, VELERO_API_VERSION, VELERO_DEFAULTS, formatTime, parseBackupSpec, type Backup, type BackupPhase, type BackupSpec } from '../velero/backup';
import { CLUSTER_LABEL, SCHEDULE_NAME_LABEL } from '../velero/labels';
import { tryParseCron } from './cron';
import { nextRun } from './next-run';

/**
 * What GET /schedules and `skiff schedule get|describe` show of a configured schedule:
 * Velero's Schedule object (pkg/apis/velero/v1/schedule_types.go) with the fields Skiff
 * adds marked below. Schedules live in the configuration, not in a cluster, so there is
 * no creationTimestamp, uid or resourceVersion.
 */
export interface ScheduleView {
  apiVersion: typeof VELERO_API_VERSION;
  kind: 'Schedule';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    /** The cron text as configured (Velero's `spec.schedule`). */
    schedule: string;
    /**
     * Skiff: the zone whose wall clock the cron fields are read on (a `CRON_TZ=` prefix
     * wins over the configured `timeZone`); named as Kubernetes' CronJob names it.
     */
    timeZone: string;
    /** The Backup spec each backup of the schedule gets: TTL, timeouts and storage location filled in. */
    template: BackupSpec;
    paused: boolean;
    /** Skiff: expiry keeps the newest `keepLast` Completed backups whatever their TTL. */
    keepLast?: number;
    /** Skiff: what a blocking readiness finding does to a slot. */
    readiness: ScheduleConfig['readiness'];
  };
  status: {
    /** Velero's phases: Enabled, or FailedValidation with `validationErrors`. */
    phase: 'Enabled' | 'FailedValidation';
    validationErrors?: string[];
    /** Velero: when the schedule's newest backup was created. */
    lastBackup?: string;
    /** Velero: the newest slot that was skipped (here: by a readiness check). */
    lastSkipped?: string;
    /** Skiff: the newest backup of the schedule and its phase. */
    lastBackupName?: string;
    lastBackupPhase?: BackupPhase;
    /** Skiff: the next slot the scheduler starts a backup for; absent when paused or when the cron never fires. */
    nextRun?: string;
    /** Skiff: storage locations that could not be read, so the last backup may be newer than shown. */
    unreadableStorageLocations?: string[];
  };
}

/** The storage location a schedule's backups (and its skipped slots) go to: the template's, else its cluster's first. */
export function scheduleStorageLocation(config: Pick<SkiffConfig, 'clusters'>, schedule: ScheduleConfig): string {
  return schedule.template.storageLocation || config.clusters.find((c) => c.name === schedule.cluster)?.storageLocations[0] || VELERO_DEFAULTS.storageLocation;
}

/** What scheduleView reads besides the schedule: backups and skipped slots found in the store. */
export interface ScheduleFacts {
  /** Backups labelled `velero.io/schedule-name` with the schedule's name (others are ignored). */
  backups: readonly Backup[];
  skippedSlots: readonly SkippedSlot[];
  /** Storage locations that could not be read while looking. */
  unreadable?: readonly string[];
}

/**
 * A schedule as the API shows it at `now`. Pure: the caller reads the backups and
 * skipped slots. The last backup is the one with the greatest name, since a scheduled
 * backup is named `<schedule>-<yyyyMMddHHmmss>` after its slot (Velero names them the
 * same way), which orders them by slot whether or not the catalog kept their times.
 */
export function scheduleView(
  config: Pick<SkiffConfig, 'clusters' | 'defaults'>,
  schedule: ScheduleConfig,
  facts: ScheduleFacts,
  now: Date,
): ScheduleView {
  const parsed = tryParseCron(schedule.schedule, schedule.timeZone);
  const validationErrors: string[] = parsed.ok ? [] : [`schedule: ${parsed.message}`];
  const template = templateOf(config, schedule, validationErrors);
  const last = lastBackupOf(schedule.name, facts.backups);
  const lastSkipped = facts.skippedSlots.filter((s) => s.schedule === schedule.name).map((s) => s.slot).sort().at(-1);
  const next = parsed.ok && !schedule.paused ? nextRun(parsed.schedule, now) : undefined;
  const timeZone = parsed.ok && parsed.schedule.kind === 'fields' ? parsed.schedule.timeZone : schedule.timeZone;
  return {
    apiVersion: VELERO_API_VERSION,
    kind: 'Schedule',
    metadata: { name: schedule.name, namespace: DEFAULT_VELERO_NAMESPACE, labels: { [CLUSTER_LABEL]: schedule.cluster } },
    spec: {
      schedule: schedule.schedule,
      timeZone,
      template,
      paused: schedule.paused,
      ...(schedule.keepLast !== undefined ? { keepLast: schedule.keepLast } : {}),
      readiness: schedule.readiness,
    },
    status: {
      phase: validationErrors.length > 0 ? 'FailedValidation' : 'Enabled',
      ...(validationErrors.length > 0 ? { validationErrors } : {}),
      ...(last ? lastBackupStatus(last) : {}),
      ...(lastSkipped ? { lastSkipped } : {}),
      ...(next ? { nextRun: formatTime(next) } : {}),
      ...(facts.unreadable?.length ? { unreadableStorageLocations: [...facts.unreadable] } : {}),
    },
  };
}

/**
 * The template the way dispatchSchedules hands it to createBackup (schedule ttl over the
 * template's), with the same server defaults createBackup applies.
 */
function templateOf(config: Pick<SkiffConfig, 'clusters' | 'defaults'>, schedule: ScheduleConfig, errors: string[]): BackupSpec {
  const input = { ...schedule.template, ...(schedule.ttl ? { ttl: schedule.ttl } : {}) };
  const defaults = {
    ttl: config.defaults.backupTTL,
    csiSnapshotTimeout: config.defaults.csiSnapshotTimeout,
    itemOperationTimeout: VELERO_DEFAULTS.itemOperationTimeout,
    storageLocation: scheduleStorageLocation(config, schedule),
  };
  try {
    return parseBackupSpec(input, { defaults, source: `schedule "${schedule.name}" template` });
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
    return input as BackupSpec;
  }
}

function lastBackupOf(schedule: string, backups: readonly Backup[]): Backup | undefined {
  return backups
    .filter((b) => b.metadata.labels?.[SCHEDULE_NAME_LABEL] === schedule)
    .reduce<Backup | undefined>((newest, b) => (!newest || b.metadata.name > newest.metadata.name ? b : newest), undefined);
}

function lastBackupStatus(backup: Backup): Pick<ScheduleView['status'], 'lastBackup' | 'lastBackupName' | 'lastBackupPhase'> {
  const created = backup.metadata.creationTimestamp ?? backup.status.startTimestamp;
  return {
    ...(created ? { lastBackup: created } : {}),
    lastBackupName: backup.metadata.name,
    lastBackupPhase: backup.status.phase ?? 'New',
  };
}
