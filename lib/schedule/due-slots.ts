import { matches, type CronSchedule } from './cron';

/**
 * How far back each dispatch looks for slots. The dispatcher runs every minute; looking
 * back further lets a late or missed tick still start the backups it should have.
 */
export const DEFAULT_LOOKBACK_MINUTES = 10;

const MINUTE_MS = 60_000;

/**
 * The instants (whole minutes, oldest first) in (now - lookbackMinutes, now] at which
 * `schedule` fires. Consecutive ticks see overlapping windows on purpose: a slot is
 * turned into a backup name, and the store creates each name once.
 */
export function dueSlots(schedule: CronSchedule, now: Date, lookbackMinutes = DEFAULT_LOOKBACK_MINUTES): Date[] {
  const after = now.getTime() - lookbackMinutes * MINUTE_MS;
  const slots: Date[] = [];
  for (let t = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS; t > after; t -= MINUTE_MS) {
    const slot = new Date(t);
    if (matches(schedule, slot)) slots.push(slot);
  }
  return slots.reverse();
}
