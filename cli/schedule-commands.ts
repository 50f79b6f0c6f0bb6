import { backupServiceDeps } from '../lib/backup/service';
import { getSchedule, listSchedules } from '../lib/backup/schedules';
import { loadConfig } from '../lib/config';
import type { CliFlags, ScheduleCommand } from './args';
import { describeSchedule, scheduleTable } from './schedule-format';

/**
 * `skiff schedule get|describe`: the configured schedules with their last backup and
 * next run, read from the storage locations as GET /schedules reads them. Loaded by
 * bin/skiff.ts only for these commands.
 */
export async function runScheduleCommand(command: ScheduleCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const deps = backupServiceDeps(loadConfig());
  const json = flags.output === 'json';
  const now = deps.now();
  if (name) {
    const schedule = await getSchedule(deps, name);
    console.log(json ? JSON.stringify(schedule, null, 2) : command === 'describe' ? describeSchedule(schedule, now) : scheduleTable([schedule], now));
    return;
  }
  const list = await listSchedules(deps);
  for (const place of list.unreadable) {
    console.error(`warning: could not read ${place.backup ? `backup ${place.backup} in ` : ''}storage location ${place.storageLocation}`);
  }
  console.log(json ? JSON.stringify(list, null, 2) : scheduleTable(list.items, now));
}
