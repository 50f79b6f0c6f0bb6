import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/core/errors';
import {
  assertDns1123Label,
  defaultBackupName,
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  labelKeyIssues,
  labelValueIssues,
  validLabelValue,
} from '../../../lib/velero/names';

describe('Module: velero/names', () => {
  it.each(['a', 'abc', 'a-b', '123', '0-a', 'a'.repeat(63)])('accepts DNS-1123 label %j', (value) => {
    expect(dns1123LabelIssues(value)).toEqual([]);
  });

  it.each([
    ['', 'must not be empty'],
    ['a'.repeat(64), '64 characters long, the limit is 63'],
    ['My-app', '"M" at position 1 (upper-case letters are not allowed)'],
    ['my_app', '"_" at position 3'],
    ['a.b', '"." at position 2'],
    ['-a', 'must start and end with a letter or digit'],
    ['a-', 'must start and end with a letter or digit'],
  ])('rejects DNS-1123 label %j, saying %j', (value, message) => {
    const issues = dns1123LabelIssues(value);
    expect(issues.join('\n')).toContain(message);
  });

  it('assertDns1123Label throws a ValidationError naming the field', () => {
    expect(() => assertDns1123Label('Bad', 'metadata.name')).toThrow(ValidationError);
    try {
      assertDns1123Label('Bad', 'metadata.name');
    } catch (error) {
      expect((error as ValidationError).issues[0]).toEqual({
        path: 'metadata.name',
        message: expect.stringContaining('"Bad" has "B" at position 1'),
      });
    }
  });

  it.each([
    ['example.com', true],
    ['nightly-20240101000000', true],
    ['a'.repeat(253), true],
    ['a'.repeat(254), false],
    ['a..b', false],
    ['A', false],
  ])('DNS-1123 subdomain %j is valid: %s', (value, valid) => {
    expect(dns1123SubdomainIssues(value).length === 0).toBe(valid);
  });

  it.each([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['velero.io/exclude-from-backup', true],
    ['Upper_case.ok-1', true],
    ['/name', false],
    ['prefix/', false],
    ['Bad.Prefix/name', false],
    ['-leading', false],
    ['a'.repeat(64), false],
  ])('label key %j is valid: %s', (key, valid) => {
    expect(labelKeyIssues(key).length === 0).toBe(valid);
  });

  it.each([
    ['', true],
    ['value', true],
    ['v1.2_3-x', true],
    ['-x', false],
    ['has space', false],
    ['a'.repeat(64), false],
  ])('label value %j is valid: %s', (value, valid) => {
    expect(labelValueIssues(value).length === 0).toBe(valid);
  });

  it.each([
    ['daily', '2024-01-31T23:59:59Z', 'daily-20240131235959'],
    ['nightly', '2025-07-04T03:04:05.678Z', 'nightly-20250704030405'],
    ['x', '0999-12-01T00:00:00Z', 'x-09991201000000'],
  ])('names a backup of %j at %s %j, in UTC like Velero schedules', (prefix, at, expected) => {
    expect(defaultBackupName(prefix, new Date(at))).toBe(expected);
  });

  it('keeps label values of up to 63 bytes as they are', () => {
    expect(validLabelValue('default')).toBe('default');
    expect(validLabelValue('a'.repeat(63))).toBe('a'.repeat(63));
  });

  it('shortens longer values to 57 bytes and 6 hex digits of their SHA-256, like label.GetValidName', () => {
    const long = `${'schedule-'.repeat(8)}20240101000000`;
    const expected = long.slice(0, 57) + createHash('sha256').update(long).digest('hex').slice(0, 6);
    expect(validLabelValue(long)).toBe(expected);
    expect(validLabelValue(long)).toHaveLength(63);
  });
});
