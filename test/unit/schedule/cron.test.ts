import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import { matches, neverFires, parseCron, tryParseCron, type FieldsSchedule } from '../../../lib/schedule/cron';

function fields(expression: string, timeZone?: string): FieldsSchedule {
  const schedule = parseCron(expression, timeZone);
  if (schedule.kind !== 'fields') throw new Error(`expected a fields schedule for ${expression}`);
  return schedule;
}

function parseError(expression: string, timeZone?: string): string {
  const result = tryParseCron(expression, timeZone);
  if (result.ok) throw new Error(`expected "${expression}" to be refused`);
  return result.message;
}

describe('Module: schedule/cron', () => {
  describe('tryParseCron', () => {
    it.each([
      ['0 2 * * *', 'minutes', [0]],
      ['*/15 * * * *', 'minutes', [0, 15, 30, 45]],
      ['1-30/5 * * * *', 'minutes', [1, 6, 11, 16, 21, 26]],
      ['5/20 * * * *', 'minutes', [5, 25, 45]],
      ['0,30 * * * *', 'minutes', [0, 30]],
      ['0 9-17/4 * * *', 'hours', [9, 13, 17]],
      ['0 0 1,15 * *', 'daysOfMonth', [1, 15]],
      ['0 0 * JAN,jul *', 'months', [1, 7]],
      ['0 0 * Mar-may *', 'months', [3, 4, 5]],
      ['0 0 * * mon-FRI', 'daysOfWeek', [1, 2, 3, 4, 5]],
      ['0 0 * * SUN,sat', 'daysOfWeek', [0, 6]],
      ['0 0 ? * *', 'daysOfMonth', Array.from({ length: 31 }, (_, i) => i + 1)],
      ['  0   2 * *   *  ', 'hours', [2]],
    ] as const)('reads "%s" (%s: %j)', (expression, field, values) => {
      expect([...fields(expression)[field]].sort((a, b) => a - b)).toEqual(values);
    });

    it.each([
      ['@yearly', '0 0 1 1 *'],
      ['@annually', '0 0 1 1 *'],
      ['@monthly', '0 0 1 * *'],
      ['@weekly', '0 0 * * 0'],
      ['@daily', '0 0 * * *'],
      ['@midnight', '0 0 * * *'],
      ['@hourly', '0 * * * *'],
    ])('reads the descriptor %s as "%s"', (descriptor, equivalent) => {
      const { expression: _a, ...fromDescriptor } = fields(descriptor);
      const { expression: _b, ...fromFields } = fields(equivalent);
      expect(fromDescriptor).toEqual(fromFields);
    });

    it.each([
      ['0 2 * * *', 'and'],
      ['0 2 1 * *', 'and'],
      ['0 2 * * MON', 'and'],
      ['0 2 1 * MON', 'or'],
      ['0 2 */2 * MON', 'or'],
      ['0 2 */1 * MON', 'and'],
      ['0 2 ? * MON', 'and'],
    ])('combines the day fields of "%s" with %s', (expression, combine) => {
      expect(fields(expression).dayFieldsCombine).toBe(combine);
    });

    it.each([
      ['@every 1m', 1],
      ['@every 6h', 360],
      ['@every 1h30m', 90],
      ['@every  15m ', 15],
    ])('reads "%s" as every %d minutes', (expression, minutes) => {
      expect(parseCron(expression)).toEqual({ kind: 'every', expression, intervalMinutes: minutes });
    });

    it.each([
      ['CRON_TZ=Europe/Berlin 0 2 * * *', 'UTC', 'Europe/Berlin'],
      ['TZ=America/New_York @daily', 'UTC', 'America/New_York'],
      ['0 2 * * *', 'Asia/Tokyo', 'Asia/Tokyo'],
      ['CRON_TZ=UTC 0 2 * * *', 'Asia/Tokyo', 'UTC'],
    ])('reads "%s" with time zone %s on the wall clock of %s', (expression, timeZone, expected) => {
      expect(fields(expression, timeZone).timeZone).toBe(expected);
    });

    it.each([
      ['', /the schedule is empty; write 5 fields/],
      ['0 2 * *', /found 4 fields; write 5 fields \(minute hour day-of-month month day-of-week/],
      ['0 0 2 * * *', /found 6 fields \(a seconds field is not supported\)/],
      ['60 * * * *', /^minute field "60": 60 is above 59; allowed: 0-59, \* or \?, lists/],
      ['* 24 * * *', /^hour field "24": 24 is above 23; allowed: 0-23/],
      ['* * 0 * *', /^day-of-month field "0": 0 is below 1; allowed: 1-31/],
      ['* * * 13 *', /^month field "13": 13 is above 12; allowed: 1-12 or JAN-DEC/],
      ['* * * * 7', /^day-of-week field "7": 7 is above 6; allowed: 0-6 \(0 is Sunday\) or SUN-SAT/],
      ['* * * * MON-SUNDAY', /^day-of-week field "MON-SUNDAY": "SUNDAY" is not a number or a name/],
      ['x * * * *', /^minute field "x": "x" is not a number;/],
      ['* * * JANUARY *', /^month field "JANUARY": "JANUARY" is not a number or a name/],
      ['*/0 * * * *', /^minute field "\*\/0": the step in "\*\/0" must be a positive whole number/],
      ['1/2/3 * * * *', /has more than one "\/"/],
      ['1-2-3 * * * *', /has more than one "-"/],
      ['5-1 * * * *', /^minute field "5-1": the range "5-1" runs backwards/],
      ['1,,2 * * * *', /a list has an empty item/],
      ['-5 * * * *', /a value is missing/],
      ['@daly', /^unknown descriptor "@daly"; write 5 fields .* @hourly\) or "@every <duration>"/],
      ['@Daily', /^unknown descriptor "@Daily"/],
      ['@every', /@every needs a duration/],
      ['@every soon', /@every: invalid duration "soon"/],
      ['@every 30s', /@every 30s: .*whole number of minutes, at least 1m/],
      ['@every 90s', /whole number of minutes/],
      ['@every -5m', /whole number of minutes, at least 1m/],
      ['CRON_TZ=Mars/Olympus 0 2 * * *', /^CRON_TZ=Mars\/Olympus: "Mars\/Olympus" is not an IANA time zone name/],
      ['TZ=+01:00 0 2 * * *', /^TZ=\+01:00: "\+01:00" is not an IANA time zone name/],
      ['TZ=Europe/Berlin', /^nothing follows TZ=Europe\/Berlin/],
    ])('refuses "%s", saying what is wrong and what is allowed', (expression, message) => {
      expect(parseError(expression)).toMatch(message);
    });

    it('refuses an unknown time zone', () => {
      expect(parseError('0 2 * * *', 'Europe/Atlantis')).toMatch(
        /^time zone "Europe\/Atlantis" is not an IANA time zone name; write e.g. UTC, Europe\/Berlin/,
      );
    });
  });

  describe('parseCron', () => {
    it('throws a ValidationError naming the field', () => {
      expect(() => parseCron('61 * * * *', 'UTC', 'schedules.0.schedule')).toThrow(ValidationError);
      expect(() => parseCron('61 * * * *', 'UTC', 'schedules.0.schedule')).toThrow(
        /schedules\.0\.schedule: minute field "61"/,
      );
    });
  });

  describe('matches', () => {
    it.each([
      ['0 2 * * *', 'UTC', '2026-01-01T02:00:00Z', true],
      ['0 2 * * *', 'UTC', '2026-01-01T02:01:00Z', false],
      ['0 2 * * *', 'UTC', '2026-01-01T02:00:30Z', false],
      ['0 2 * * *', 'UTC', '2026-01-01T02:00:00.001Z', false],
      ['0 2 * * *', 'Europe/Berlin', '2026-01-15T01:00:00Z', true],
      ['0 2 * * *', 'Europe/Berlin', '2026-07-15T00:00:00Z', true],
      ['0 2 * * *', 'Europe/Berlin', '2026-07-15T01:00:00Z', false],
      ['CRON_TZ=America/New_York 0 9 * * *', 'UTC', '2026-01-05T14:00:00Z', true],
      ['CRON_TZ=America/New_York 0 9 * * *', 'Europe/Berlin', '2026-01-05T08:00:00Z', false],
      ['0 0 1 * MON', 'UTC', '2026-06-01T00:00:00Z', true],
      ['0 0 1 * MON', 'UTC', '2026-06-08T00:00:00Z', true],
      ['0 0 1 * MON', 'UTC', '2026-07-01T00:00:00Z', true],
      ['0 0 1 * MON', 'UTC', '2026-07-02T00:00:00Z', false],
      ['0 0 */2 * MON', 'UTC', '2026-06-03T00:00:00Z', true],
      ['0 0 * * MON', 'UTC', '2026-06-02T00:00:00Z', false],
      ['0 0 1 * ?', 'UTC', '2026-06-08T00:00:00Z', false],
      ['0 0 * * 0', 'Asia/Tokyo', '2026-06-06T15:00:00Z', true],
      ['@weekly', 'UTC', '2026-06-07T00:00:00Z', true],
      ['@weekly', 'UTC', '2026-06-08T00:00:00Z', false],
      ['0 0 29 FEB *', 'UTC', '2028-02-29T00:00:00Z', true],
      ['@every 6h', 'UTC', '2026-03-01T06:00:00Z', true],
      ['@every 6h', 'Asia/Kolkata', '2026-03-01T06:00:00Z', true],
      ['@every 6h', 'UTC', '2026-03-01T03:00:00Z', false],
      ['@every 7m', 'UTC', new Date(7 * 60_000 * 4_000_000).toISOString(), true],
      ['@every 7m', 'UTC', new Date(7 * 60_000 * 4_000_000 + 60_000).toISOString(), false],
    ])('"%s" in %s at %s: %s', (expression, timeZone, instant, expected) => {
      expect(matches(parseCron(expression, timeZone), new Date(instant))).toBe(expected);
    });
  });

  describe('neverFires', () => {
    it.each([
      ['0 0 30 2 *', true],
      ['0 0 31 APR,JUN,SEP,NOV *', true],
      ['0 0 31 APR,MAY *', false],
      ['0 0 29 2 *', false],
      ['0 0 30 2 MON', false],
      ['0 0 * 2 *', false],
      ['@every 1h', false],
    ])('"%s": %s', (expression, expected) => {
      expect(neverFires(parseCron(expression))).toBe(expected);
    });
  });
});
