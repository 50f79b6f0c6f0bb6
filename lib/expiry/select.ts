import { isFailedRecord, isLeaseLive, type ProgressRecordView } from '../store/progress-records';
import { isExpired } from '../velero/backup';

/**
 * Which backups of one storage location a run deletes, as a pure function of what the
 * location holds and the time: Velero's garbage collection rule (pkg/controller/
 * gc_controller.go: `status.expiration` in the past, never from a ReadOnly location),
 * plus Skiff's retention per schedule (`keepLast`) and a cap per run. A backup Skiff
 * failed stores nothing under backups/, only its progress record under metadata/; such
 * a record expires by the same rule (Velero's GC deletes Failed backups too).
 */

/** What selection needs of a backup: from the catalog, or from its velero-backup.json. */
export interface BackupSummary {
  name: string;
  phase: string;
  /** RFC 3339; a backup without one never expires. */
  expiration?: string;
  startTimestamp?: string;
  completionTimestamp?: string;
  /** The schedule that took it (label velero.io/schedule-name). */
  schedule?: string;
}

/** The deletion already under way for a backup (its marker). */
export interface MarkedDeletion {
  since: string;
  why: string;
}

export interface ExpiryPolicy {
  /** Newest Completed backups kept per schedule, whatever the TTL. */
  keepLast: ReadonlyMap<string, number>;
  /** Deletions per run; the rest wait for the next run. */
  maxDeletions: number;
  /** A ReadOnly location is never deleted from. */
  readOnly: boolean;
}

export interface SelectionInput {
  backups: readonly BackupSummary[];
  /** Backups being deleted already (markers), by name; some may have no objects left. */
  marked: ReadonlyMap<string, MarkedDeletion>;
  /** Backups still being written (they have a progress record). */
  inProgress: ReadonlySet<string>;
  /**
   * The progress records of backups that have nothing under backups/ (read where the
   * record has one); only those of failed backups get a verdict, the others are being
   * written and are not the run's business.
   */
  progressRecords?: readonly ProgressRecordView[];
  now: Date;
  policy: ExpiryPolicy;
}

/**
 * The verdict on one backup. `delete`: this run deletes it, because it `expired`, a
 * deletion is already under way (`marked`), it was `requested`, or it is the progress
 * record of a failed backup that expired (`failedRecord`); `deferred`: it should go,
 * but the run's cap is reached; `keep`: it stays. `why` says which rule decided, in
 * words. `progressRecord` marks verdicts on a failed backup's progress record.
 */
export type Verdict =
  | { backup: string; verdict: 'delete'; cause: 'expired' | 'marked' | 'requested' | 'failedRecord'; why: string; progressRecord?: true }
  | { backup: string; verdict: 'deferred' | 'keep'; why: string; progressRecord?: true };

/** Phases after which a backup is finished and may expire (Velero's GC deletes these too). */
export const EXPIRABLE_PHASES: ReadonlySet<string> = new Set(['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation']);

/**
 * A verdict for every backup and every marked deletion, sorted by name. Marked
 * deletions come first within the cap (they were decided already and may hold a
 * half-deleted backup), then expired backups oldest expiration first.
 */
export function selectForDeletion(input: SelectionInput): Verdict[] {
  const { policy } = input;
  const names = new Set([...input.backups.map((b) => b.name), ...input.marked.keys()]);
  const failed = (input.progressRecords ?? []).filter((r) => isFailedRecord(r) && !names.has(r.name));
  if (policy.readOnly) {
    const readOnly = 'the storage location is ReadOnly: nothing is deleted from it';
    return [
      ...[...names].map((backup): Verdict => ({ backup, verdict: 'keep', why: readOnly })),
      ...failed.map((r): Verdict => ({ backup: r.name, verdict: 'keep', why: readOnly, progressRecord: true })),
    ].sort((a, b) => cmp(a.backup, b.backup));
  }
  const protectedBy = keptByRetention(input.backups, input.marked, policy.keepLast);
  const verdicts = new Map<string, Verdict>();
  const wanted: { verdict: Extract<Verdict, { verdict: 'delete' }>; order: string }[] = [];
  for (const [backup, mark] of input.marked) {
    wanted.push({ verdict: { backup, verdict: 'delete', cause: 'marked', why: `being deleted since ${mark.since}: ${mark.why}` }, order: `0 ${mark.since}` });
  }
  for (const backup of input.backups) {
    if (input.marked.has(backup.name)) continue;
    const keep = reasonToKeep(backup, input, protectedBy.get(backup.name));
    if (keep) {
      verdicts.set(backup.name, { backup: backup.name, verdict: 'keep', why: keep });
      continue;
    }
    wanted.push({
      verdict: { backup: backup.name, verdict: 'delete', cause: 'expired', why: `expired at ${backup.expiration}` },
      order: `1 ${new Date(backup.expiration!).toISOString()}`,
    });
  }
  for (const record of failed) {
    const keep = reasonToKeepRecord(record, input.now);
    if (keep) {
      verdicts.set(record.name, { backup: record.name, verdict: 'keep', why: keep, progressRecord: true });
      continue;
    }
    wanted.push({
      verdict: { backup: record.name, verdict: 'delete', cause: 'failedRecord', why: `${failedBackup(record)}; expired at ${record.expiration}`, progressRecord: true },
      order: `1 ${new Date(record.expiration!).toISOString()}`,
    });
  }
  wanted.sort((a, b) => (a.order === b.order ? cmp(a.verdict.backup, b.verdict.backup) : cmp(a.order, b.order)));
  wanted.forEach(({ verdict }, index) => {
    verdicts.set(
      verdict.backup,
      index < policy.maxDeletions
        ? verdict
        : {
            backup: verdict.backup,
            verdict: 'deferred',
            why: `${verdict.why}; waits for the next run: this run deletes at most ${policy.maxDeletions} backups (defaults.maxDeletionsPerRun)`,
            ...(verdict.progressRecord ? { progressRecord: true as const } : {}),
          },
    );
  });
  return [...verdicts.values()].sort((a, b) => cmp(a.backup, b.backup));
}

/** Why an unmarked backup stays, or undefined when it expired and may go. */
function reasonToKeep(backup: BackupSummary, input: SelectionInput, retention: string | undefined): string | undefined {
  if (input.inProgress.has(backup.name)) return 'it is still being written (it has a progress record)';
  if (!EXPIRABLE_PHASES.has(backup.phase)) return `phase ${backup.phase}: only finished backups (${[...EXPIRABLE_PHASES].join(', ')}) expire`;
  if (backup.expiration === undefined) return 'it has no expiration';
  if (Number.isNaN(Date.parse(backup.expiration))) return `its expiration "${backup.expiration}" is not a time; it is kept rather than guessed at`;
  if (!isExpired({ status: { expiration: backup.expiration } }, input.now)) return `expires at ${backup.expiration}`;
  return retention;
}

/** The words for a failed backup known only by its progress record. */
function failedBackup(record: ProgressRecordView): string {
  const reason = record.failureReason ? ` (${record.failureReason})` : '';
  return `the backup failed${reason} and has no velero-backup.json (its progress record under metadata/ keeps what it left)`;
}

/**
 * Why a failed backup's progress record stays, or undefined when it expired and may go.
 * A record an invocation still holds (a live lease) is never touched: its writer may
 * still be discarding snapshots.
 */
function reasonToKeepRecord(record: ProgressRecordView, now: Date): string | undefined {
  const failed = failedBackup(record);
  if (isLeaseLive(record, now)) return `${failed}; an invocation holds it until ${record.leaseUntil}, so it is left alone`;
  if (record.expiration === undefined) return `${failed}; it has no expiration`;
  if (Number.isNaN(Date.parse(record.expiration))) return `${failed}; its expiration "${record.expiration}" is not a time; it is kept rather than guessed at`;
  if (!isExpired({ status: { expiration: record.expiration } }, now)) return `${failed}; it expires at ${record.expiration}`;
  return undefined;
}

/**
 * The backups each schedule's `keepLast` protects, with the reason: the newest N
 * Completed backups of the schedule (by start time, then name, which for scheduled
 * backups ends in the slot's time) that are not being deleted already.
 */
export function keptByRetention(
  backups: readonly BackupSummary[],
  marked: ReadonlyMap<string, unknown>,
  keepLast: ReadonlyMap<string, number>,
): Map<string, string> {
  const bySchedule = new Map<string, BackupSummary[]>();
  for (const backup of backups) {
    if (!backup.schedule || backup.phase !== 'Completed' || marked.has(backup.name)) continue;
    if (!keepLast.get(backup.schedule)) continue;
    bySchedule.set(backup.schedule, [...(bySchedule.get(backup.schedule) ?? []), backup]);
  }
  const kept = new Map<string, string>();
  for (const [schedule, list] of bySchedule) {
    const n = keepLast.get(schedule)!;
    const newestFirst = [...list].sort((a, b) => cmp(sortKey(b), sortKey(a)));
    newestFirst.slice(0, n).forEach((backup, i) => {
      kept.set(backup.name, `expired, but kept by schedule "${schedule}" keepLast ${n}: it is its newest Completed backup number ${i + 1}`);
    });
  }
  return kept;
}

function sortKey(backup: BackupSummary): string {
  const time = backup.startTimestamp ?? backup.completionTimestamp;
  const parsed = time === undefined ? NaN : Date.parse(time);
  return `${Number.isNaN(parsed) ? '' : new Date(parsed).toISOString()} ${backup.name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
