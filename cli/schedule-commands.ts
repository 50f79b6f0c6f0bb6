import type { ScheduleList } from '../lib/backup/schedules';
import type { ScheduleView } from '../lib/schedule/view';
import type { CliFlags, ScheduleCommand } from './args';
import type { Mode } from './mode';
import { printAs } from './output';
import { describeSchedule, scheduleTable } from './schedule-format';

/**
 * `skiff schedule get|describe`: the configured schedules with their last backup and
 * next run, the same in both modes — GET /schedules[/{name}] of a deployed Skiff, or
 * read here from the storage locations as those routes read them. Loaded by
 * bin/skiff.ts only for these commands.
 */
export async function runScheduleCommand(mode: Mode, command: ScheduleCommand, name: string | undefined, flags: CliFlags): Promise<void> {
  const source = await scheduleSource(mode);
  const now = new Date();
  if (name) {
    const schedule = await source.get(name);
    return printAs(flags.output, schedule, () => (command === 'describe' ? describeSchedule(schedule, now) : scheduleTable([schedule], now)));
  }
  const list = await source.list();
  for (const place of list.unreadable) {
    console.error(`error: could not read ${place.backup ? `backup ${place.backup} in ` : ''}storage location ${place.storageLocation}`);
  }
  // What is shown may miss a newer last backup: a script must not take it as complete.
  if (list.unreadable.length > 0) process.exitCode = 1;
  return printAs(flags.output, list, () => scheduleTable(list.items, now));
}

interface ScheduleSource {
  get(name: string): Promise<ScheduleView>;
  list(): Promise<ScheduleList>;
}

async function scheduleSource(mode: Mode): Promise<ScheduleSource> {
  if (mode.kind === 'client') {
    return {
      get: (name) => mode.api.json<ScheduleView>('GET', `/schedules/${encodeURIComponent(name)}`),
      list: () => mode.api.json<ScheduleList>('GET', '/schedules'),
    };
  }
  const [{ loadConfig }, { backupServiceDeps }, schedules] = await Promise.all([
    import('../lib/config'),
    import('../lib/backup/service'),
    import('../lib/backup/schedules'),
  ]);
  const deps = backupServiceDeps(loadConfig());
  return { get: (name) => schedules.getSchedule(deps, name), list: () => schedules.listSchedules(deps) };
}
