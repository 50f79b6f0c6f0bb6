import { z } from 'zod';
import { NotFoundError, ValidationError } from '../core/errors';
import { logger } from '../core/logger';
import { fieldIssuesFromZod } from '../core/zod-issues';
import { scheduleStorageLocation, scheduleView, type ScheduleView } from '../schedule/view';
import { readSkippedSlots, type SkippedSlot } from '../store/skipped-slots';
import { listBackups, type BackupList, type BackupServiceDeps } from './service';

/**
 * The configured schedules with what the store says of them: their newest backup (the
 * backups labelled `velero.io/schedule-name`, Skiff's and Velero's alike), the newest
 * skipped slot, and, from the cron and the injected clock, the next run.
 */

/** GET /schedules takes no query parameters; a misspelt filter is refused rather than ignored. */
export const scheduleQuerySchema = z.strictObject({});

/** Every schedule, in configuration order, and the storage places that could not be read. */
export interface ScheduleList {
  items: ScheduleView[];
  unreadable: BackupList['unreadable'];
}

/**
 * Every configured schedule. Costs what GET /backups costs (a LIST and the catalog per
 * location, a GET per backup being written or not yet catalogued) plus one GET of each
 * schedule's skipped slots. A location that cannot be read is named in `unreadable` and
 * in each view's `unreadableStorageLocations`; it never hides the rest.
 */
export async function listSchedules(deps: BackupServiceDeps, query: unknown = {}): Promise<ScheduleList> {
  const parsed = scheduleQuerySchema.safeParse(query);
  if (!parsed.success) throw new ValidationError('query', fieldIssuesFromZod(parsed.error).map(unknownParameterHint));
  const { config } = deps;
  if (config.schedules.length === 0) return { items: [], unreadable: [] };
  const backups = await listBackups(deps);
  const unreadable = [...backups.unreadable];
  const items = await Promise.all(
    config.schedules.map(async (schedule) => {
      const storageLocation = scheduleStorageLocation(config, schedule);
      const places = new Set(backups.unreadable.map((u) => u.storageLocation));
      let skippedSlots: SkippedSlot[] = [];
      try {
        skippedSlots = await readSkippedSlots(deps.storeFor(storageLocation), schedule.name);
      } catch (error) {
        logger.error('could not read the skipped slots of a schedule', { schedule: schedule.name, storageLocation, error });
        unreadable.push({ storageLocation });
        places.add(storageLocation);
      }
      return scheduleView(config, schedule, { backups: backups.items, skippedSlots, unreadable: [...places] }, deps.now());
    }),
  );
  return { items, unreadable };
}

/** One configured schedule; 404 naming the configured ones when there is none of that name. */
export async function getSchedule(deps: BackupServiceDeps, name: string): Promise<ScheduleView> {
  const { config } = deps;
  const schedule = config.schedules.find((s) => s.name === name);
  if (!schedule) {
    const known = config.schedules.map((s) => s.name).join(', ');
    throw new NotFoundError('schedule', name, known ? `configured schedules: ${known}` : 'no schedules are configured (schedules[] in the configuration)');
  }
  const found = await listBackups(deps, { schedule: name });
  const unreadable = [...new Set(found.unreadable.map((u) => u.storageLocation))];
  return scheduleView(config, schedule, { backups: found.items, skippedSlots: found.skippedSlots ?? [], unreadable }, deps.now());
}

function unknownParameterHint(issue: { path: string; message: string }) {
  return { ...issue, message: `${issue.message}; GET /schedules takes no parameters (GET /backups?schedule=NAME lists a schedule's backups)` };
}
