import { describe, expect, it } from 'vitest';
import { finalPhase, sameFingerprint } from '../../chaos/invariants';
import { offsetPastLease } from '../../chaos/jobs';
import { Prng } from '../../chaos/prng';
import type { BackupProgressRecord } from '../../../lib/backup/progress-record';

describe('Class: Prng', () => {
  it('replays the same sequence from the same seed, and forks the same children', () => {
    const draw = (seed: number) => {
      const rng = new Prng(seed);
      return [rng.next(), rng.int(1, 6), rng.pick(['a', 'b', 'c']), rng.fork().seed];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it.each([
    [1, 6],
    [0, 0],
    [-3, 3],
  ])('int(%i, %i) stays in range', (min, max) => {
    const rng = new Prng(7);
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(min, max);
      expect(n).toBeGreaterThanOrEqual(min);
      expect(n).toBeLessThanOrEqual(max);
    }
  });
});

describe('Function: finalPhase', () => {
  it.each([
    { phase: 'Completed', reason: undefined, violations: 0 },
    { phase: 'PartiallyFailed', reason: undefined, violations: 0 },
    { phase: 'Failed', reason: 'the API server answered 503', violations: 0 },
    { phase: 'Failed', reason: undefined, violations: 1 },
    { phase: 'InProgress', reason: undefined, violations: 1 },
    { phase: undefined, reason: undefined, violations: 1 },
  ])('$phase with reason $reason: $violations violation(s)', ({ phase, reason, violations }) => {
    expect(finalPhase('b1', phase, reason)).toHaveLength(violations);
  });
});

describe('Function: sameFingerprint', () => {
  it.each([
    { after: [['ConfigMap/a', '1']], violations: [] },
    { after: [['ConfigMap/a', '2']], violations: ['restore: ConfigMap/a of source namespace ns was modified'] },
    { after: [], violations: ['restore: ConfigMap/a of source namespace ns disappeared'] },
    { after: [['ConfigMap/a', '1'], ['Secret/b', 'x']], violations: ['restore: Secret/b was created in source namespace ns'] },
  ])('$violations', ({ after, violations }) => {
    expect(sameFingerprint('ns', new Map([['ConfigMap/a', '1']]), new Map(after as [string, string][]))).toEqual(violations);
  });
});

describe('Function: offsetPastLease', () => {
  const withLease = (until: string | undefined) => ({ lease: until ? { owner: 'x', until } : undefined }) as BackupProgressRecord;

  it('moves the clock just past a lease that has not run out, never back', () => {
    const until = new Date(Date.now() + 30_000).toISOString();
    const offset = offsetPastLease(withLease(until), 0);
    expect(offset).toBeGreaterThan(29_000);
    expect(offset).toBeLessThan(32_000);
    expect(offsetPastLease(withLease(until), 120_000)).toBe(120_000);
    expect(offsetPastLease(withLease(undefined), 5_000)).toBe(5_000);
  });
});
