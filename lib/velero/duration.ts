import { ValidationError } from '../core/errors';

/**
 * Go durations (`time.ParseDuration` / `time.Duration.String`), the format of every
 * duration field Velero reads and writes (`ttl: 720h0m0s`, `csiSnapshotTimeout: 10m0s`).
 *
 * Durations are kept in nanoseconds as a bigint, like Go's int64, so that parsing and
 * formatting round-trip exactly; `durationToMilliseconds` converts for Date arithmetic.
 */

const NANOSECOND = 1n;
const MICROSECOND = 1000n * NANOSECOND;
const MILLISECOND = 1000n * MICROSECOND;
const SECOND = 1000n * MILLISECOND;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', NANOSECOND],
  ['us', MICROSECOND],
  ['\u00b5s', MICROSECOND], // micro sign
  ['\u03bcs', MICROSECOND], // Greek small letter mu
  ['ms', MILLISECOND],
  ['s', SECOND],
  ['m', MINUTE],
  ['h', HOUR],
]);

const MAX_MAGNITUDE = 1n << 63n;
const MAX_DURATION = MAX_MAGNITUDE - 1n;

const EXPECTED_FORMAT =
  'expected a sequence of numbers with units (h, m, s, ms, us, ns), e.g. "720h0m0s", "1h30m" or "10m"';

/** Result of {@link tryParseDuration}: nanoseconds, or why the text is not a duration. */
export type DurationParseResult = { ok: true; nanoseconds: bigint } | { ok: false; message: string };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Parses a Go duration exactly as `time.ParseDuration` does, including its overflow
 * limits and its float arithmetic for fractions (`1.5h`), without throwing.
 */
export function tryParseDuration(text: string): DurationParseResult {
  const invalid = (why: string): DurationParseResult => ({
    ok: false,
    message: `invalid duration ${JSON.stringify(text)}: ${why}`,
  });
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, nanoseconds: 0n };
  if (s === '') return invalid(EXPECTED_FORMAT);

  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid(EXPECTED_FORMAT);

    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      if (whole > MAX_MAGNITUDE / 10n) return invalid('it is too large (the limit is about 2562047h)');
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > MAX_MAGNITUDE) return invalid('it is too large (the limit is about 2562047h)');
      i++;
    }
    const hasWholeDigits = i > 0;
    s = s.slice(i);

    let fraction = 0n;
    let scale = 1;
    let hasFractionDigits = false;
    if (s.startsWith('.')) {
      s = s.slice(1);
      let j = 0;
      let overflowed = false;
      // Like Go, stop accumulating precision (without failing) once the fraction overflows.
      while (isDigit(s[j])) {
        if (!overflowed) {
          const next = fraction * 10n + BigInt(s.charCodeAt(j) - 48);
          if (fraction > (MAX_MAGNITUDE - 1n) / 10n || next > MAX_MAGNITUDE) {
            overflowed = true;
          } else {
            fraction = next;
            scale *= 10;
          }
        }
        j++;
      }
      hasFractionDigits = j > 0;
      s = s.slice(j);
    }
    if (!hasWholeDigits && !hasFractionDigits) return invalid(EXPECTED_FORMAT);

    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s[u])) u++;
    if (u === 0) return invalid(`a number is missing its unit; ${EXPECTED_FORMAT}`);
    const unitText = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      return invalid(`unknown unit ${JSON.stringify(unitText)}; allowed units are h, m, s, ms, us, ns`);
    }

    if (whole > MAX_MAGNITUDE / unit) return invalid('it is too large (the limit is about 2562047h)');
    let value = whole * unit;
    if (fraction > 0n) {
      // Go computes the fraction in float64; doing the same keeps results bit-identical.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > MAX_MAGNITUDE) return invalid('it is too large (the limit is about 2562047h)');
    }
    total += value;
    if (total > MAX_MAGNITUDE) return invalid('it is too large (the limit is about 2562047h)');
  }
  if (negative) return { ok: true, nanoseconds: -total };
  if (total > MAX_DURATION) return invalid('it is too large (the limit is about 2562047h)');
  return { ok: true, nanoseconds: total };
}

/**
 * Parses a Go duration into nanoseconds; throws a ValidationError naming `field` when
 * the text is not a duration.
 */
export function parseDurationNanos(text: string, field = 'duration'): bigint {
  const result = tryParseDuration(text);
  if (!result.ok) throw new ValidationError(field, [{ path: field, message: result.message }]);
  return result.nanoseconds;
}

/**
 * Parses a Go duration into whole milliseconds (the precision of timers and Dates);
 * throws a ValidationError naming `field` when the text is not a duration.
 */
export function parseDuration(text: string, field = 'duration'): number {
  return durationToMilliseconds(parseDurationNanos(text, field));
}

/** Formats the fraction `v / 10**precision` as ".123" without trailing zeros ("" when zero). */
function formatFraction(v: bigint, precision: number): { fraction: string; rest: bigint } {
  let digits = '';
  let printed = false;
  let rest = v;
  for (let i = 0; i < precision; i++) {
    const digit = rest % 10n;
    printed ||= digit !== 0n;
    if (printed) digits = digit.toString() + digits;
    rest /= 10n;
  }
  return { fraction: printed ? `.${digits}` : '', rest };
}

/**
 * Formats nanoseconds exactly like Go's `Duration.String`: `720h0m0s`, `10m0s`,
 * `1.5s`, `300ms`, `0s`. This is the form Velero writes into velero-backup.json.
 */
export function formatDurationNanos(nanoseconds: bigint): string {
  const negative = nanoseconds < 0n;
  const u = negative ? -nanoseconds : nanoseconds;
  let text: string;
  if (u < SECOND) {
    if (u === 0n) return '0s';
    // Below one second Go switches to the largest unit that keeps an integer part.
    if (u < MICROSECOND) text = `${u}ns`;
    else if (u < MILLISECOND) {
      const { fraction, rest } = formatFraction(u, 3);
      text = `${rest}${fraction}\u00b5s`;
    } else {
      const { fraction, rest } = formatFraction(u, 6);
      text = `${rest}${fraction}ms`;
    }
  } else {
    const { fraction, rest: totalSeconds } = formatFraction(u, 9);
    text = `${totalSeconds % 60n}${fraction}s`;
    const totalMinutes = totalSeconds / 60n;
    if (totalMinutes > 0n) {
      text = `${totalMinutes % 60n}m${text}`;
      const hours = totalMinutes / 60n;
      if (hours > 0n) text = `${hours}h${text}`;
    }
  }
  return negative ? `-${text}` : text;
}

/** Formats milliseconds as a Go duration (`formatDuration(90 * 60_000)` is `1h30m0s`). */
export function formatDuration(milliseconds: number): string {
  const nanoseconds = Number.isInteger(milliseconds)
    ? BigInt(milliseconds) * MILLISECOND
    : BigInt(Math.round(milliseconds * 1e6));
  return formatDurationNanos(nanoseconds);
}

/** Rewrites a duration the way Velero stores it (`1h30m` becomes `1h30m0s`). */
export function normalizeDuration(text: string, field = 'duration'): string {
  return formatDurationNanos(parseDurationNanos(text, field));
}

/** Converts nanoseconds to whole milliseconds (toward zero), the precision of a Date. */
export function durationToMilliseconds(nanoseconds: bigint): number {
  return Number(nanoseconds / MILLISECOND);
}
