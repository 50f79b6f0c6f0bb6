import { describe, expect, it } from 'vitest';
import { Gate } from '../../chaos/gate';

/** A step that records when it entered and left, and ends when told. */
function step(log: string[], name: string) {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return {
    work: async () => {
      log.push(`${name} in`);
      await ended;
      log.push(`${name} out`);
    },
    end: () => end(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Class: Gate', () => {
  it('lets shared steps run side by side', async () => {
    const gate = new Gate();
    const log: string[] = [];
    const a = step(log, 'a');
    const b = step(log, 'b');
    const running = [gate.withShared(a.work), gate.withShared(b.work)];
    await tick();
    expect(log).toEqual(['a in', 'b in']);
    a.end();
    b.end();
    await Promise.all(running);
  });

  it('runs an exclusive step alone: after the steps in flight, before the steps that came after it', async () => {
    const gate = new Gate();
    const log: string[] = [];
    const a = step(log, 'a');
    const restart = step(log, 'restart');
    const b = step(log, 'b');
    const running = [gate.withShared(a.work), gate.withExclusive(restart.work), gate.withShared(b.work)];
    await tick();
    expect(log).toEqual(['a in']);
    a.end();
    await tick();
    await tick();
    expect(log).toEqual(['a in', 'a out', 'restart in']);
    restart.end();
    await tick();
    await tick();
    expect(log).toEqual(['a in', 'a out', 'restart in', 'restart out', 'b in']);
    b.end();
    await Promise.all(running);
  });

  it('lets the next steps in when a step throws', async () => {
    const gate = new Gate();
    await expect(gate.withExclusive(async () => Promise.reject(new Error('bed gone')))).rejects.toThrow('bed gone');
    await expect(gate.withShared(async () => 'ran')).resolves.toBe('ran');
  });
});
