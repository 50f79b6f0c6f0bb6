import { describe, expect, it } from 'vitest';
import { waitBudgetMs } from '../../../lib/expiry/execute';

describe('waitBudgetMs', () => {
  it.each([
    { case: 'no deadline: the full wait', waitTimeoutMs: 300_000, remainingMs: undefined, stopMarginMs: 60_000, expected: 300_000 },
    { case: 'plenty of time left: the full wait', waitTimeoutMs: 300_000, remainingMs: 840_000, stopMarginMs: 60_000, expected: 300_000 },
    { case: 'the time runs out first: until the margin', waitTimeoutMs: 300_000, remainingMs: 200_000, stopMarginMs: 60_000, expected: 140_000 },
    { case: 'exactly at the margin: one look', waitTimeoutMs: 300_000, remainingMs: 60_000, stopMarginMs: 60_000, expected: 0 },
    { case: 'past the margin: one look, never negative', waitTimeoutMs: 300_000, remainingMs: 10_000, stopMarginMs: 60_000, expected: 0 },
    { case: 'past the limit itself: one look', waitTimeoutMs: 30_000, remainingMs: -2_000, stopMarginMs: 5_000, expected: 0 },
  ])('$case', ({ waitTimeoutMs, remainingMs, stopMarginMs, expected }) => {
    const deadline = remainingMs === undefined ? {} : { deadline: { remainingMs: () => remainingMs, stopMarginMs } };
    expect(waitBudgetMs({ waitTimeoutMs, ...deadline })).toBe(expected);
  });
});
