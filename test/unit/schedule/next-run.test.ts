import { describe, expect, it } from 'vitest';
import { matches, parseCron } from '../../../lib/schedule/cron';
import { nextRun } from '../../../lib/schedule/next-run';

const MINUTE_MS = 60_000;

describe('Module: schedule/next-run', () => {
  describe('nextRun', () => {
    it.each([
      ['later today', '0 2 * * *', 'UTC', '2026-06-01T01:59:30Z', '2026-06-01T02:00:00Z'],
      ['strictly after: a slot at `after` itself is not next', '0 2 * * *', 'UTC', '2026-06-01T02:00:00Z', '2026-06-02T02:00:00Z'],
      ['inside the slot minute', '0 2 * * *', 'UTC', '2026-06-01T02:00:30Z', '2026-06-02T02:00:00Z'],
      ['every minute', '* * * * *', 'UTC', '2026-06-01T10:00:30Z', '2026-06-01T10:01:00Z'],
      ['steps within an hour', '*/20 * * * *', 'UTC', '2026-06-01T10:41:00Z', '2026-06-01T11:00:00Z'],
      ['Berlin in summer (UTC+2)', '0 2 * * *', 'Europe/Berlin', '2026-05-31T23:00:00Z', '2026-06-01T00:00:00Z'],
      ['Kolkata (UTC+5:30)', '0 9 * * *', 'Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-01T03:30:00Z'],
      ['Kathmandu (UTC+5:45), the local day starting the UTC evening before', '15 0 * * *', 'Asia/Kathmandu', '2026-06-01T00:00:00Z', '2026-06-01T18:30:00Z'],
      ['a CRON_TZ prefix wins, weekdays only: Saturday to Monday', 'CRON_TZ=America/New_York 0 9 * * 1-5', 'UTC', '2026-06-06T00:00:00Z', '2026-06-08T13:00:00Z'],
      ['clocks go forward: the skipped 02:30 waits a day', '30 2 * * *', 'Europe/Berlin', '2026-03-28T02:00:00Z', '2026-03-30T00:30:00Z'],
      ['clocks go back: the first 02:30', '30 2 * * *', 'Europe/Berlin', '2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z'],
      ['clocks go back: the repeated 02:30 fires too', '30 2 * * *', 'Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z'],
      ['the midnight after a day that lost an hour is not jumped over', '0 0 30 3 *', 'Europe/Berlin', '2026-03-29T00:00:00Z', '2026-03-29T22:00:00Z'],
      ['the 13th or a Friday (both day fields restricted)', '0 0 13 * 5', 'UTC', '2026-06-01T00:00:00Z', '2026-06-05T00:00:00Z'],
      ['the 13th and any weekday (day-of-week unrestricted)', '0 0 13 * *', 'UTC', '2026-06-01T00:00:00Z', '2026-06-13T00:00:00Z'],
      ['@yearly', '@yearly', 'UTC', '2026-06-01T00:00:00Z', '2027-01-01T00:00:00Z'],
      ['a leap day, two years ahead', '0 0 29 2 *', 'UTC', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00Z'],
      ['@every 6h, counted from the epoch', '@every 6h', 'UTC', '2026-06-01T12:00:00Z', '2026-06-01T18:00:00Z'],
      ['@every 6h, between slots', '@every 6h', 'UTC', '2026-06-01T12:05:00Z', '2026-06-01T18:00:00Z'],
      ['@every 7m, not a divisor of an hour', '@every 7m', 'UTC', '1970-01-01T00:06:59Z', '1970-01-01T00:07:00Z'],
    ])('%s: %s (%s) after %s is %s', (_case, expression, zone, after, expected) => {
      expect(nextRun(parseCron(expression, zone), new Date(after))?.toISOString().replace('.000Z', 'Z')).toBe(expected);
    });

    it.each([
      ['February 30th', '0 0 30 2 *'],
      ['April 31st', '0 0 31 4 *'],
    ])('is undefined for a cron that never fires: %s', (_case, expression) => {
      expect(nextRun(parseCron(expression), new Date('2026-06-01T00:00:00Z'))).toBeUndefined();
    });

    it('is undefined past the horizon', () => {
      expect(nextRun(parseCron('0 0 1 1 *'), new Date('2026-06-01T00:00:00Z'), 30)).toBeUndefined();
    });

    // The scheduler dispatches with `matches`: the next run is a minute it fires at, and no
    // minute before it (after `after`) fires.
    it.each([
      ['*/7 3-5 * * 1', 'UTC', '2026-06-03T04:10:00Z'],
      ['45 1,13 * * *', 'Asia/Kathmandu', '2026-06-01T00:00:00Z'],
      ['0 */3 * * 0,6', 'America/New_York', '2026-03-05T17:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z'],
      ['0 0 1,15 * *', 'Australia/Lord_Howe', '2026-04-02T00:00:00Z'],
      ['0 0 30 3 *', 'Europe/Berlin', '2026-03-29T00:00:00Z'],
    ])('agrees with the minute-by-minute truth of matches: %s (%s) after %s', (expression, zone, after) => {
      const schedule = parseCron(expression, zone);
      const next = nextRun(schedule, new Date(after))!;
      expect(matches(schedule, next)).toBe(true);
      for (let t = Math.floor(Date.parse(after) / MINUTE_MS) * MINUTE_MS + MINUTE_MS; t < next.getTime(); t += MINUTE_MS) {
        if (matches(schedule, new Date(t))) throw new Error(`${new Date(t).toISOString()} fires before ${next.toISOString()}`);
      }
    });
  });
});
