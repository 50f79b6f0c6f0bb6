/**
 * Time zones by IANA name, through Intl (the zone database that ships with Node), so
 * schedules follow daylight-saving changes without a date library.
 */

/** A local date and time of day, as a wall clock in some time zone shows it. */
export interface WallClock {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
  /** 0-23 */
  hour: number;
  minute: number;
  /** 0 is Sunday, as in cron. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23, not hour12: false: the latter shows midnight as "24" in some ICU versions.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

// Offsets such as "+01:00" are accepted by newer Intl versions but are not IANA names
// and have no daylight-saving rules; refusing them keeps configurations portable.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/**
 * What is wrong with `name` as a time zone, or undefined when Intl knows it as an IANA
 * name (`UTC`, `Europe/Berlin`, `America/New_York`).
 */
export function timeZoneIssue(name: string): string | undefined {
  const problem = `"${name}" is not an IANA time zone name; write e.g. UTC, Europe/Berlin or America/New_York`;
  if (!IANA_NAME.test(name)) return problem;
  try {
    formatterFor(name);
    return undefined;
  } catch {
    return problem;
  }
}

/**
 * The wall clock of `timeZone` at `instant`. Two instants can show the same wall clock
 * (the hour repeated when clocks go back) and some wall clocks are shown by no instant
 * (the hour skipped when clocks go forward).
 */
export function wallClock(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = NaN, month = NaN, day = NaN, hour = NaN, minute = NaN } = parts;
  // The weekday of a calendar date does not depend on the zone; computing it avoids
  // parsing localised weekday names.
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return { year, month, day, hour, minute, weekday };
}
