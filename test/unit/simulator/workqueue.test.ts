import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../bed/simulator/workqueue';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkQueue', () => {
  it('never runs one key twice at once, and reruns a key changed meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const queue = new WorkQueue(async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await tick(20);
      running--;
    });
    queue.add('a');
    await tick(5);
    queue.add('a');
    queue.add('a');
    await tick(100);
    await queue.drain();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs different keys in parallel', async () => {
    let running = 0;
    let maxRunning = 0;
    const queue = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick(20);
      running--;
    });
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await tick(5);
    await queue.drain();
    expect(maxRunning).toBe(3);
  });

  it('retries failures with backoff and ignores resyncs while backing off', async () => {
    const times: number[] = [];
    const start = Date.now();
    const queue = new WorkQueue(
      async () => {
        times.push(Date.now() - start);
        if (times.length < 3) throw new Error('not yet');
      },
      { baseBackoffMs: 30, maxBackoffMs: 100 },
    );
    queue.add('a');
    await tick(10);
    queue.add('a'); // a resync during the backoff
    await tick(150);
    queue.stop();
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(55);
  });

  it('comes back when the handler asks to', async () => {
    let runs = 0;
    const queue = new WorkQueue(async () => (++runs < 2 ? { requeueAfterMs: 20 } : undefined));
    queue.add('a');
    await tick(60);
    expect(runs).toBe(2);
    queue.stop();
  });
});

describe('WorkQueue transient errors', () => {
  it('retries conflicts soon, without logging or growing the backoff', async () => {
    let runs = 0;
    const errors: unknown[] = [];
    const queue = new WorkQueue(
      async () => {
        if (++runs < 4) throw Object.assign(new Error('conflict'), { code: 409 });
      },
      { isTransient: (err) => (err as { code?: number }).code === 409, onError: (_key, err) => errors.push(err) },
    );
    queue.add('a');
    await tick(600);
    queue.stop();
    expect(runs).toBe(4);
    expect(errors).toEqual([]);
  });
});
