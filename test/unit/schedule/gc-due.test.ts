import { describe, expect, it } from 'vitest';
import { gcDue } from '../../../lib/schedule/gc-due';

const MINUTE = 60_000;

/** The minutes of one day at which the location's run is due. */
function dueMinutes(location: string, frequencyMs: number): number[] {
  const start = Date.parse('2025-06-01T00:00:00Z');
  const minutes: number[] = [];
  for (let m = 0; m < 24 * 60; m++) if (gcDue(location, new Date(start + m * MINUTE), frequencyMs)) minutes.push(m);
  return minutes;
}

describe('Function: gcDue', () => {
  it.each([
    { frequency: '60m', ms: 60 * MINUTE, runs: 24 },
    { frequency: '15m', ms: 15 * MINUTE, runs: 96 },
    { frequency: '1m', ms: MINUTE, runs: 1440 },
    { frequency: '24h', ms: 24 * 60 * MINUTE, runs: 1 },
    { frequency: '0 (off)', ms: 0, runs: 0 },
  ])('every $frequency: $runs run(s) a day, evenly spaced', ({ ms, runs }) => {
    const minutes = dueMinutes('default', ms);
    expect(minutes).toHaveLength(runs);
    for (let i = 1; i < minutes.length; i++) expect((minutes[i]! - minutes[i - 1]!) * MINUTE).toBe(ms);
  });

  it('also on ticks that come a few seconds late', () => {
    const start = Date.parse('2025-06-01T00:00:07Z');
    let runs = 0;
    for (let m = 0; m < 24 * 60; m++) if (gcDue('default', new Date(start + m * MINUTE), 60 * MINUTE)) runs++;
    expect(runs).toBe(24);
  });

  it('spreads locations over the period', () => {
    const names = ['default', 'archive', 'eu-west', 'us-east', 'dr'];
    const first = new Set(names.map((n) => dueMinutes(n, 60 * MINUTE)[0]));
    expect(first.size).toBeGreaterThan(1);
  });
});
