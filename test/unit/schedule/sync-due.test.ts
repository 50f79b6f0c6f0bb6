import { describe, expect, it } from 'vitest';
import { dueSyncs, isSyncDue } from '../../../lib/schedule';

const at = (time: string) => new Date(`2026-03-01T${time}Z`);

describe('Function: isSyncDue', () => {
  it.each([
    ['off (0)', 0, '12:05:00', false],
    ['every 30s: every tick', 30_000, '12:05:17', true],
    ['every minute: every tick', 60_000, '12:05:00', true],
    ['every 5 minutes, on the boundary', 300_000, '12:05:00.300', true],
    ['every 5 minutes, a late tick within the minute', 300_000, '12:05:40', true],
    ['every 5 minutes, a minute later', 300_000, '12:06:00.300', false],
    ['every 5 minutes, just before the boundary', 300_000, '12:04:59', false],
    ['every hour, at the hour', 3_600_000, '13:00:01', true],
    ['every hour, at half past', 3_600_000, '13:30:01', false],
  ])('%s at %s -> %s', (_, intervalMs, time, expected) => {
    expect(isSyncDue(intervalMs, at(time))).toBe(expected);
  });
});

describe('Function: dueSyncs', () => {
  it('starts one run per (due location, cluster that uses it)', () => {
    const config = {
      storageLocations: [
        { name: 'a', refreshInterval: '1m' },
        { name: 'b', refreshInterval: '0' },
        { name: 'c', refreshInterval: '1h' },
      ],
      clusters: [
        { name: 'x', storageLocations: ['a', 'b'] },
        { name: 'y', storageLocations: ['a', 'c'] },
      ],
    } as unknown as Parameters<typeof dueSyncs>[0];
    expect(dueSyncs(config, at('12:30:00'))).toEqual([
      { location: 'a', cluster: 'x' },
      { location: 'a', cluster: 'y' },
    ]);
    expect(dueSyncs(config, at('13:00:00')).filter((s) => s.location === 'c')).toEqual([{ location: 'c', cluster: 'y' }]);
  });
});
