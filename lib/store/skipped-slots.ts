import { z } from 'zod';
import type { Clock } from '../core/clock';
import { ConflictError } from '../core/errors';
import type { BackupStore } from './backup-store';

/**
 * The slots of a schedule that were not started because a readiness check blocked them
 * (`readiness: block`), with the reasons: what `GET /backups?schedule=` shows next to
 * the schedule's backups. One JSON document per schedule under metadata/ (Velero
 * refuses other top-level folders), updated with conditional writes like the catalog,
 * so one GET answers both "was this slot skipped?" and the listing. The newest
 * MAX_SKIPPED_SLOTS are kept.
 */

/** One skipped slot. */
export interface SkippedSlot {
  schedule: string;
  /** The backup the slot maps to (`<schedule>-<yyyyMMddHHmmss>`), which was not created. */
  backup: string;
  /** The slot, ISO 8601. */
  slot: string;
  cluster: string;
  reasons: string[];
  /** When the skip was recorded, ISO 8601. */
  recordedAt: string;
}

/** How many skipped slots a schedule's document keeps (the newest). */
export const MAX_SKIPPED_SLOTS = 100;
const MAX_ATTEMPTS = 5;

const documentSchema = z.object({
  skipped: z.array(
    z.object({
      schedule: z.string(),
      backup: z.string(),
      slot: z.string(),
      cluster: z.string(),
      reasons: z.array(z.string()),
      recordedAt: z.string(),
    }),
  ),
});

async function readVersion(store: BackupStore, schedule: string): Promise<{ skipped: SkippedSlot[]; etag: string | undefined }> {
  const found = await store.getJsonVersion(store.layout.skippedSlotsKey(schedule));
  if (!found) return { skipped: [], etag: undefined };
  const parsed = documentSchema.safeParse(found.document);
  // A damaged document is replaced by the next write rather than failing the scheduler.
  return { skipped: parsed.success ? parsed.data.skipped : [], etag: found.etag };
}

/** The skipped slots of `schedule` in this location, oldest first; [] when none. */
export async function readSkippedSlots(store: BackupStore, schedule: string): Promise<SkippedSlot[]> {
  return (await readVersion(store, schedule)).skipped;
}

/**
 * Records a skipped slot once (a slot already recorded is left as it was). The write is
 * conditional on the version read, and retried on a lost race.
 *
 * @throws ConflictError when it keeps losing races; the store's errors otherwise.
 */
export async function recordSkippedSlot(
  store: BackupStore,
  slot: Omit<SkippedSlot, 'recordedAt'>,
  clock: Pick<Clock, 'now'>,
): Promise<SkippedSlot> {
  for (let attempt = 1; ; attempt++) {
    const { skipped, etag } = await readVersion(store, slot.schedule);
    const known = skipped.find((s) => s.backup === slot.backup);
    if (known) return known;
    const record: SkippedSlot = { ...slot, recordedAt: clock.now().toISOString() };
    const next = [...skipped, record].slice(-MAX_SKIPPED_SLOTS);
    try {
      await store.putObject(store.layout.skippedSlotsKey(slot.schedule), JSON.stringify({ skipped: next }), {
        contentType: 'application/json',
        ...(etag ? { ifMatch: etag } : { ifNoneMatch: true }),
      });
      return record;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
