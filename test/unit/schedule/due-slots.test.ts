import { describe, expect, it } from 'vitest';
import { parseCron } from '../../../lib/schedule/cron';
import { DEFAULT_LOOKBACK_MINUTES, dueSlots } from '../../../lib/schedule/due-slots';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('Module: schedule/due-slots', () => {
  describe('dueSlots', () => {
    it.each([
      ['on time', '0 10 * * *', '2026-06-01T10:00:00Z', 10, ['2026-06-01T10:00:00.000Z']],
      ['a tick a few seconds late', '0 10 * * *', '2026-06-01T10:00:59.999Z', 10, ['2026-06-01T10:00:00.000Z']],
      ['a tick minutes late, inside the lookback', '0 10 * * *', '2026-06-01T10:09:30Z', 10, ['2026-06-01T10:00:00.000Z']],
      ['the last minute of the lookback', '0 10 * * *', '2026-06-01T10:09:59Z', 10, ['2026-06-01T10:00:00.000Z']],
      ['a slot exactly one lookback ago', '0 10 * * *', '2026-06-01T10:10:00Z', 10, []],
      ['a slot longer ago than the lookback', '0 10 * * *', '2026-06-01T10:11:00Z', 10, []],
      ['a slot not yet reached', '0 10 * * *', '2026-06-01T09:59:59Z', 10, []],
      [
        'several slots, oldest first',
        '*/5 * * * *',
        '2026-06-01T10:12:00Z',
        15,
        ['2026-06-01T10:00:00.000Z', '2026-06-01T10:05:00.000Z', '2026-06-01T10:10:00.000Z'],
      ],
      ['a lookback of one minute sees only the current minute', '* * * * *', '2026-06-01T10:00:30Z', 1, ['2026-06-01T10:00:00.000Z']],
      ['@every 6h', '@every 6h', '2026-06-01T12:05:00Z', 10, ['2026-06-01T12:00:00.000Z']],
    ])('%s', (_case, expression, now, lookback, expected) => {
      expect(iso(dueSlots(parseCron(expression), new Date(now), lookback))).toEqual(expected);
    });

    it(`looks back ${DEFAULT_LOOKBACK_MINUTES} minutes unless told otherwise`, () => {
      const schedule = parseCron('* * * * *');

      const slots = dueSlots(schedule, new Date('2026-06-01T10:00:00Z'));

      expect(slots).toHaveLength(DEFAULT_LOOKBACK_MINUTES);
      expect(slots[0]?.toISOString()).toBe('2026-06-01T09:51:00.000Z');
    });

    it.each([
      ['skipped when clocks go forward (Berlin)', '0 2 * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', []],
      ['also mid-hour (Berlin)', '30 2 * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', []],
      [
        'fired twice when clocks go back (Berlin)',
        '0 2 * * *',
        'Europe/Berlin',
        '2026-10-25T00:00:00Z',
        ['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'],
      ],
      ['skipped when clocks go forward (New York)', '0 2 * * *', 'America/New_York', '2026-03-08T00:00:00Z', []],
      [
        'fired twice when clocks go back (New York)',
        '30 1 * * *',
        'America/New_York',
        '2026-11-01T00:00:00Z',
        ['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z'],
      ],
      ['an ordinary day (Berlin, summer time)', '0 2 * * *', 'Europe/Berlin', '2026-03-30T00:00:00Z', ['2026-03-30T00:00:00.000Z']],
      ['an hour that exists in UTC every day', '0 2 * * *', 'UTC', '2026-03-29T00:00:00Z', ['2026-03-29T02:00:00.000Z']],
    ])('a local time %s', (_case, expression, timeZone, dayStart, expected) => {
      // One whole UTC day: dueSlots over 24 hours lists every firing in it.
      const dayEnd = new Date(Date.parse(dayStart) + 24 * 3_600_000 - 60_000);

      expect(iso(dueSlots(parseCron(expression, timeZone), dayEnd, 24 * 60))).toEqual(expected);
    });
  });
});
