import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../lib/core/clock';
import { watchByList } from '../../../lib/csi/watch';

/** A clock whose sleep only moves time on. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return { slept, now: () => new Date(now), sleep: async (ms) => void (slept.push(ms), (now += ms)) };
}

type Obj = { name: string; ready: boolean };

describe('Function: watchByList', () => {
  it('settles every object with one list per look', async () => {
    const clock = fakeClock();
    const looks: Obj[][] = [
      [{ name: 'a', ready: false }, { name: 'b', ready: false }],
      [{ name: 'a', ready: true }, { name: 'b', ready: false }],
      [{ name: 'b', ready: true }],
    ];
    let lists = 0;
    const result = await watchByList<Obj, string>({
      list: async () => looks[Math.min(lists++, looks.length - 1)]!,
      keys: ['a', 'b'],
      keyOf: (o) => o.name,
      settle: (_, o) => (o?.ready ? 'ready' : undefined),
      clock,
      timeoutMs: 60_000,
      what: 'things',
    });
    expect(lists).toBe(3);
    expect([...result.settled]).toEqual([['a', 'ready'], ['b', 'ready']]);
    expect(result.pending.size).toBe(0);
  });

  it.each([
    ['gone objects settle as gone', [] as Obj[], 'gone', 0],
    ['never-ready objects are pending at the deadline', [{ name: 'a', ready: false }], undefined, 1],
  ])('%s', async (_, listed, verdict, pending) => {
    const clock = fakeClock();
    const result = await watchByList<Obj, string>({
      list: async () => listed,
      keys: ['a'],
      keyOf: (o) => o.name,
      settle: (_, o) => (o === undefined ? 'gone' : undefined),
      clock,
      timeoutMs: 10_000,
      what: 'things',
    });
    expect(result.settled.get('a')).toBe(verdict);
    expect(result.pending.size).toBe(pending);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
  });

  it('keeps waiting through a failed list', async () => {
    const clock = fakeClock();
    let lists = 0;
    const result = await watchByList<Obj, string>({
      list: async () => {
        if (lists++ === 0) throw new Error('503');
        return [{ name: 'a', ready: true }];
      },
      keys: ['a'],
      keyOf: (o) => o.name,
      settle: (_, o) => (o?.ready ? 'ready' : undefined),
      clock,
      timeoutMs: 10_000,
      what: 'things',
    });
    expect(result.settled.get('a')).toBe('ready');
  });
});
