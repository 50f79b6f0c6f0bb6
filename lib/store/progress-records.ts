import { z } from 'zod';
import type { BackupStore } from './backup-store';

/**
 * A read-only view of a backup's progress record (`metadata/skiff/backups-in-progress/
 * <b>.json`), reduced to the fields a job other than the backup job needs: whether the
 * backup failed, when it expires, whether an invocation still holds it, and how many
 * resource-list parts it has stored. The backup job owns the record's full shape; this
 * view checks only these fields, and lets the rest through unread, so neither job
 * imports the other.
 */

/** What another job may know of a progress record. */
export interface ProgressRecordView {
  /** The backup's name (the record's key). */
  name: string;
  /** The backup job's stage: New, Snapshots, Resources, Finalizing, Done or Failed. */
  stage: string;
  /** The Backup's status.phase as the record holds it (absent before the first run). */
  phase?: string;
  /** RFC 3339: the Backup's status.expiration; absent when it never expires. */
  expiration?: string;
  failureReason?: string;
  /** The cluster the backup is taken of. */
  cluster?: string;
  /** RFC 3339: until when an invocation holds the record (its lease), if one does. */
  leaseUntil?: string;
  /** Resource-list parts stored beside the record (numbered from 1); 0 when none. */
  resourceListParts: number;
}

const optionalText = z.string().nullish();

const viewSchema = z.looseObject({
  stage: z.string().min(1),
  cluster: optionalText,
  lease: z.looseObject({ until: z.string() }).nullish(),
  backup: z.looseObject({
    status: z
      .looseObject({ phase: optionalText, expiration: optionalText, failureReason: optionalText })
      .nullish(),
  }),
  tarball: z.looseObject({ resourceListParts: z.number().int().nonnegative().nullish() }).nullish(),
});

/**
 * The view of a progress record as parsed from its JSON.
 *
 * @throws Error naming the backup and the fields that are wrong, when the record lacks
 *   `stage` or `backup`, or a field read here has the wrong type.
 */
export function progressRecordView(name: string, record: unknown): ProgressRecordView {
  const parsed = viewSchema.safeParse(record);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
    throw new Error(`the progress record of backup "${name}" is not one Skiff wrote (${fields}); it is left as it is`);
  }
  const { stage, cluster, lease, backup, tarball } = parsed.data;
  const status = backup.status ?? {};
  return {
    name,
    stage,
    ...(status.phase ? { phase: status.phase } : {}),
    ...(status.expiration ? { expiration: status.expiration } : {}),
    ...(status.failureReason ? { failureReason: status.failureReason } : {}),
    ...(cluster ? { cluster } : {}),
    ...(lease ? { leaseUntil: lease.until } : {}),
    resourceListParts: tarball?.resourceListParts ?? 0,
  };
}

/**
 * Reads one progress record as its view (one GET); undefined when there is none.
 *
 * @throws the store's error when it cannot be read, or the error of progressRecordView.
 */
export async function readProgressRecordView(store: BackupStore, name: string): Promise<ProgressRecordView | undefined> {
  const stored = await store.getProgress(name);
  return stored ? progressRecordView(name, stored.record) : undefined;
}

/** Whether the backup of the record failed for good: the backup job's stage Failed, or its Backup's phase Failed. */
export function isFailedRecord(view: Pick<ProgressRecordView, 'stage' | 'phase'>): boolean {
  return view.stage === 'Failed' || view.phase === 'Failed';
}

/** Whether an invocation still holds the record at `now` (its lease has not run out; an unparsable one counts as held). */
export function isLeaseLive(view: Pick<ProgressRecordView, 'leaseUntil'>, now: Date): boolean {
  if (view.leaseUntil === undefined) return false;
  const until = Date.parse(view.leaseUntil);
  return Number.isNaN(until) || until > now.getTime();
}
