import { matches, neverFires, type CronSchedule } from './cron';
import { wallClock } from './time-zone';

const MINUTE_MS = 60_000;
/**
 * Every zone's offset from UTC is a whole number of quarter hours, so a local hour
 * starts on a UTC quarter hour: a block of 15 minutes never straddles two local hours.
 */
const BLOCK_MINUTES = 15;
const BLOCK_MS = BLOCK_MINUTES * MINUTE_MS;
/** Far enough for any schedule that fires at all: Feb 29 on a given weekday comes round within 28 years. */
export const NEXT_RUN_HORIZON_DAYS = 366 * 28;

/**
 * The first slot of `schedule` strictly after `after`: the whole minute at which the
 * scheduler's next tick will start a backup, found with the same `matches` the scheduler
 * dispatches with, so the two cannot disagree (time zones, daylight saving, `@every`).
 * Undefined when the schedule never fires ("0 0 30 2 *") or not within `horizonDays`.
 *
 * Cost: one wall-clock reading per local quarter hour of days that do not match, a
 * handful per non-matching day (it jumps to near the next local midnight), so a daily
 * schedule is found in about a hundred readings and a leap-day one in a few thousand.
 */
export function nextRun(schedule: CronSchedule, after: Date, horizonDays = NEXT_RUN_HORIZON_DAYS): Date | undefined {
  const first = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  if (schedule.kind === 'every') {
    const interval = schedule.intervalMinutes * MINUTE_MS;
    return new Date(Math.ceil(first / interval) * interval);
  }
  if (neverFires(schedule)) return undefined;
  const end = first + horizonDays * 24 * 60 * MINUTE_MS;
  let t = first;
  while (t < end) {
    const blockEnd = Math.floor(t / BLOCK_MS) * BLOCK_MS + BLOCK_MS;
    const clock = wallClock(new Date(t), schedule.timeZone);
    const dayMatches =
      schedule.months.has(clock.month) &&
      (schedule.dayFieldsCombine === 'and'
        ? schedule.daysOfMonth.has(clock.day) && schedule.daysOfWeek.has(clock.weekday)
        : schedule.daysOfMonth.has(clock.day) || schedule.daysOfWeek.has(clock.weekday));
    if (!dayMatches) {
      t = Math.max(blockEnd, nearLocalMidnight(t, clock.hour, clock.minute));
      continue;
    }
    if (schedule.hours.has(clock.hour)) {
      for (let minute = t; minute < blockEnd; minute += MINUTE_MS) {
        if (matches(schedule, new Date(minute))) return new Date(minute);
      }
    }
    t = blockEnd;
  }
  return undefined;
}

/**
 * An instant at or before the next local midnight: an hour early, so that a day whose
 * clocks go forward (and whose midnight so comes an hour sooner) is never jumped over.
 */
function nearLocalMidnight(t: number, hour: number, minute: number): number {
  const minutesLeft = 24 * 60 - (hour * 60 + minute) - 60;
  return Math.floor((t + minutesLeft * MINUTE_MS) / BLOCK_MS) * BLOCK_MS;
}
