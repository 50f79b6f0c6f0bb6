import { ValidationError } from '../core/errors';
import { tryParseDuration } from '../velero/duration';
import { timeZoneIssue, wallClock } from './time-zone';

/**
 * Schedules written the way Velero's `Schedule.spec.schedule` is: Velero parses them
 * with robfig/cron v3's ParseStandard, so the same text means the same thing here.
 * Five fields (minute hour day-of-month month day-of-week), descriptors such as
 * `@daily`, `@every <duration>`, and a `CRON_TZ=<zone> ` (or `TZ=<zone> `) prefix.
 */

/** A schedule of the five cron fields, evaluated on the wall clock of `timeZone`. */
export interface FieldsSchedule {
  kind: 'fields';
  /** The text as written, for messages. */
  expression: string;
  timeZone: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 is Sunday. */
  daysOfWeek: ReadonlySet<number>;
  /**
   * Classic cron: when both day fields are restricted, a day matching either one fires
   * ("1 * MON" is the 1st and every Monday); when one is `*` or `?`, both must match.
   */
  dayFieldsCombine: 'and' | 'or';
}

/** `@every <duration>`: fires every `intervalMinutes`, counted from the Unix epoch. */
export interface EverySchedule {
  kind: 'every';
  expression: string;
  intervalMinutes: number;
}

/** A parsed schedule; `matches` says when it fires. */
export type CronSchedule = FieldsSchedule | EverySchedule;

/** What tryParseCron returns: the schedule, or what is wrong with the text. */
export type CronParseResult = { ok: true; schedule: CronSchedule } | { ok: false; message: string };

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names accepted for values, case-insensitive, in order from `min`. */
  names?: readonly string[];
  allowed: string;
}

const STEPS_HELP = '* or ?, lists (1,15), ranges (1-5) and steps (*/2, 1-5/2)';

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59, allowed: `0-59, ${STEPS_HELP}` },
  { name: 'hour', min: 0, max: 23, allowed: `0-23, ${STEPS_HELP}` },
  { name: 'day-of-month', min: 1, max: 31, allowed: `1-31, ${STEPS_HELP}` },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    allowed: `1-12 or JAN-DEC, ${STEPS_HELP}`,
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 6,
    names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
    allowed: `0-6 (0 is Sunday) or SUN-SAT, ${STEPS_HELP}`,
  },
];

/** robfig/cron's descriptors and the fields they stand for. */
const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FORMS_HELP =
  'write 5 fields (minute hour day-of-month month day-of-week, e.g. "0 2 * * *"), ' +
  `a descriptor (${Object.keys(DESCRIPTORS).join(', ')}) or "@every <duration>" (e.g. "@every 6h")`;

const MINUTE_MS = 60_000;
const MINUTE_NS = 60_000_000_000n;

/**
 * Parses a schedule. `timeZone` is where its fields are read unless the text starts
 * with `CRON_TZ=<zone> ` or `TZ=<zone> `, which wins. Never throws.
 */
export function tryParseCron(expression: string, timeZone = 'UTC'): CronParseResult {
  let rest = expression.trim();
  let zone = timeZone;
  const prefix = /^(CRON_TZ|TZ)=(\S*)/.exec(rest);
  if (prefix) {
    const [whole, variable, name = ''] = prefix;
    const issue = timeZoneIssue(name);
    if (issue) return { ok: false, message: `${variable}=${name}: ${issue}` };
    rest = rest.slice(whole.length).trim();
    if (rest === '') return { ok: false, message: `nothing follows ${variable}=${name}; ${FORMS_HELP}` };
    zone = name;
  } else {
    const issue = timeZoneIssue(zone);
    if (issue) return { ok: false, message: `time zone ${issue}` };
  }

  if (rest === '') return { ok: false, message: `the schedule is empty; ${FORMS_HELP}` };
  if (/^@every(\s|$)/.test(rest)) return parseEvery(expression, rest);
  if (rest.startsWith('@')) {
    const fields = DESCRIPTORS[rest];
    if (fields === undefined) return { ok: false, message: `unknown descriptor "${rest}"; ${FORMS_HELP}` };
    return parseFields(expression, fields, zone);
  }
  return parseFields(expression, rest, zone);
}

/**
 * Parses a schedule like tryParseCron; throws a ValidationError naming `field` when
 * the text is not a schedule.
 */
export function parseCron(expression: string, timeZone = 'UTC', field = 'schedule'): CronSchedule {
  const result = tryParseCron(expression, timeZone);
  if (!result.ok) throw new ValidationError(field, [{ path: field, message: result.message }]);
  return result.schedule;
}

function parseEvery(expression: string, rest: string): CronParseResult {
  const text = rest.slice('@every'.length).trim();
  const help = 'write e.g. "@every 15m" or "@every 6h"; the interval is a whole number of minutes, at least 1m';
  if (text === '') return { ok: false, message: `@every needs a duration; ${help}` };
  const parsed = tryParseDuration(text);
  if (!parsed.ok) return { ok: false, message: `@every: ${parsed.message}; ${help}` };
  // Schedules are dispatched once a minute, so a slot is a whole minute.
  if (parsed.nanoseconds < MINUTE_NS || parsed.nanoseconds % MINUTE_NS !== 0n) {
    return { ok: false, message: `@every ${text}: ${help}` };
  }
  return { ok: true, schedule: { kind: 'every', expression, intervalMinutes: Number(parsed.nanoseconds / MINUTE_NS) } };
}

function parseFields(expression: string, text: string, timeZone: string): CronParseResult {
  const words = text.split(/\s+/);
  if (words.length !== FIELDS.length) {
    const seconds = words.length === 6 ? ' (a seconds field is not supported)' : '';
    return { ok: false, message: `found ${words.length} fields${seconds}; ${FORMS_HELP}` };
  }
  const parsed: ParsedField[] = [];
  for (const [i, spec] of FIELDS.entries()) {
    const field = parseField(words[i]!, spec);
    if (typeof field === 'string') {
      return { ok: false, message: `${spec.name} field "${words[i]}": ${field}; allowed: ${spec.allowed}` };
    }
    parsed.push(field);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parsed as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  return {
    ok: true,
    schedule: {
      kind: 'fields',
      expression,
      timeZone,
      minutes: minute.values,
      hours: hour.values,
      daysOfMonth: dayOfMonth.values,
      months: month.values,
      daysOfWeek: dayOfWeek.values,
      dayFieldsCombine: dayOfMonth.unrestricted || dayOfWeek.unrestricted ? 'and' : 'or',
    },
  };
}

interface ParsedField {
  values: Set<number>;
  /** Written as `*` or `?` (without a step above 1): it does not narrow the days. */
  unrestricted: boolean;
}

/** Parses one field; returns what is wrong with it as text. */
function parseField(text: string, spec: FieldSpec): ParsedField | string {
  const values = new Set<number>();
  let unrestricted = false;
  for (const part of text.split(',')) {
    if (part === '') return 'a list has an empty item';
    const [range = '', step, ...extra] = part.split('/');
    if (extra.length > 0) return `"${part}" has more than one "/"`;
    let every = 1;
    if (step !== undefined) {
      if (!/^\d+$/.test(step) || Number(step) === 0) return `the step in "${part}" must be a positive whole number`;
      every = Number(step);
    }
    let start: number;
    let end: number;
    if (range === '*' || range === '?') {
      [start, end] = [spec.min, spec.max];
      unrestricted ||= every === 1;
    } else {
      const [low = '', high, ...more] = range.split('-');
      if (more.length > 0) return `"${part}" has more than one "-"`;
      const first = fieldValue(low, spec);
      if (typeof first === 'string') return first;
      start = first;
      if (high !== undefined) {
        const last = fieldValue(high, spec);
        if (typeof last === 'string') return last;
        end = last;
      } else {
        // robfig/cron reads "N/step" as "N-max/step".
        end = step === undefined ? start : spec.max;
      }
      if (start > end) return `the range "${range}" runs backwards`;
    }
    for (let value = start; value <= end; value += every) values.add(value);
  }
  return { values, unrestricted };
}

function fieldValue(text: string, spec: FieldSpec): number | string {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min) return `${value} is below ${spec.min}`;
    if (value > spec.max) return `${value} is above ${spec.max}`;
    return value;
  }
  const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return spec.min + index;
  return text === '' ? 'a value is missing' : `"${text}" is not a number${spec.names ? ' or a name' : ''}`;
}

/**
 * Whether `schedule` fires at `instant`. Schedules fire at whole minutes only; any
 * other instant never matches. The fields are read on the schedule's wall clock, so a
 * local time skipped when clocks go forward never fires and a local time repeated when
 * they go back fires at each occurrence. `@every` slots are counted from the Unix
 * epoch, which makes them the same whenever and wherever they are computed.
 */
export function matches(schedule: CronSchedule, instant: Date): boolean {
  const ms = instant.getTime();
  if (ms % MINUTE_MS !== 0) return false;
  if (schedule.kind === 'every') return (ms / MINUTE_MS) % schedule.intervalMinutes === 0;

  const clock = wallClock(instant, schedule.timeZone);
  if (!schedule.minutes.has(clock.minute) || !schedule.hours.has(clock.hour) || !schedule.months.has(clock.month)) {
    return false;
  }
  const dayOfMonth = schedule.daysOfMonth.has(clock.day);
  const dayOfWeek = schedule.daysOfWeek.has(clock.weekday);
  return schedule.dayFieldsCombine === 'and' ? dayOfMonth && dayOfWeek : dayOfMonth || dayOfWeek;
}

/** Days in each month (index 1-12) in the longest year: Feb 29 does come round. */
const LONGEST_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `schedule` can never fire because none of its months has any of its days
 * of the month ("0 0 30 2 *"). Such text is valid cron, and Velero accepts it too.
 */
export function neverFires(schedule: CronSchedule): boolean {
  if (schedule.kind === 'every' || schedule.dayFieldsCombine === 'or') return false;
  const longest = Math.max(...[...schedule.months].map((month) => LONGEST_MONTH[month]!));
  return Math.min(...schedule.daysOfMonth) > longest;
}
