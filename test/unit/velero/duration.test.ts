import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import {
  durationToMilliseconds,
  formatDuration,
  formatDurationNanos,
  normalizeDuration,
  parseDuration,
  parseDurationNanos,
  tryParseDuration,
} from '../../../lib/velero/duration';

const MS = 1_000_000n;
const S = 1000n * MS;
const M = 60n * S;
const H = 60n * M;
const MAX = (1n << 63n) - 1n;

describe('Module: velero/duration', () => {
  // Cases from Velero's own values and Go's time package tests (TestParseDuration).
  it.each([
    ['720h0m0s', 720n * H],
    ['1h30m', H + 30n * M],
    ['10m', 10n * M],
    ['4h', 4n * H],
    ['0', 0n],
    ['-0', 0n],
    ['+0', 0n],
    ['5s', 5n * S],
    ['30s', 30n * S],
    ['1478s', 1478n * S],
    ['-5s', -5n * S],
    ['+5s', 5n * S],
    ['5.0s', 5n * S],
    ['5.6s', 5n * S + 600n * MS],
    ['5.s', 5n * S],
    ['.5s', 500n * MS],
    ['1.004s', S + 4n * MS],
    ['100.00100s', 100n * S + MS],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12\u00b5s', 12_000n],
    ['12\u03bcs', 12_000n],
    ['13ms', 13n * MS],
    ['15m', 15n * M],
    ['3h30m', 3n * H + 30n * M],
    ['10.5s4m', 4n * M + 10n * S + 500n * MS],
    ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
    ['1h2m3s4ms5us6ns', H + 2n * M + 3n * S + 4n * MS + 5000n + 6n],
    ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
    ['52763797000ns', 52763797000n],
    ['0.3333333333333333333h', 20n * M],
    ['9007199254740993ns', (1n << 53n) + 1n],
    ['9223372036854775807ns', MAX],
    ['9223372036854775.807us', MAX],
    ['9223372036s854ms775us807ns', MAX],
    ['-9223372036854775808ns', -(1n << 63n)],
    ['0.100000000000000000000h', 6n * M],
    ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n],
  ])('parses %j to %d ns', (text, expected) => {
    expect(parseDurationNanos(text)).toBe(expected);
  });

  it.each([
    ['', 'expected a sequence of numbers with units'],
    ['3', 'missing its unit'],
    ['-', 'expected a sequence'],
    ['s', 'expected a sequence'],
    ['.', 'expected a sequence'],
    ['-.', 'expected a sequence'],
    ['.s', 'expected a sequence'],
    ['+.s', 'expected a sequence'],
    ['1d', 'unknown unit "d"'],
    ['1h30', 'missing its unit'],
    ['3000000h', 'too large'],
    ['9223372036854775808ns', 'too large'],
    ['-9223372036854775809ns', 'too large'],
    ['9223372036854775.808us', 'too large'],
  ])('rejects %j, saying %j', (text, message) => {
    const result = tryParseDuration(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
    expect(result.ok ? '' : result.message).toContain(JSON.stringify(text));
  });

  // Go's TestDurationString.
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [1100n, '1.1\u00b5s'],
    [2_200_000n, '2.2ms'],
    [3_300_000_000n, '3.3s'],
    [4n * M + 5n * S, '4m5s'],
    [4n * M + 5001n * MS, '4m5.001s'],
    [5n * H + 6n * M + 7001n * MS, '5h6m7.001s'],
    [8n * M + 1n, '8m0.000000001s'],
    [720n * H, '720h0m0s'],
    [10n * M, '10m0s'],
    [4n * H, '4h0m0s'],
    [MAX, '2562047h47m16.854775807s'],
    [-(1n << 63n), '-2562047h47m16.854775808s'],
    [-1500n * MS, '-1.5s'],
  ])('formats %d ns as %j', (nanoseconds, expected) => {
    expect(formatDurationNanos(nanoseconds)).toBe(expected);
  });

  it.each([
    ['1h30m', '1h30m0s'],
    ['720h', '720h0m0s'],
    ['10m', '10m0s'],
    ['0', '0s'],
    ['90s', '1m30s'],
    ['1.5h', '1h30m0s'],
  ])('normalises %j to Velero form %j', (text, expected) => {
    expect(normalizeDuration(text)).toBe(expected);
  });

  it('converts to and from milliseconds for Date arithmetic', () => {
    expect(parseDuration('720h0m0s')).toBe(720 * 3600 * 1000);
    expect(parseDuration('1.9ms')).toBe(1);
    expect(durationToMilliseconds(-1_900_000n)).toBe(-1);
    expect(formatDuration(90 * 60_000)).toBe('1h30m0s');
    expect(formatDuration(0.5)).toBe('500\u00b5s');
  });

  it('throws a ValidationError naming the field', () => {
    const error = (() => {
      try {
        parseDuration('30 days', 'spec.ttl');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'spec.ttl', message: expect.stringContaining('invalid duration "30 days"') },
    ]);
  });
});
