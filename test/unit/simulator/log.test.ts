import { afterEach, describe, expect, it, vi } from 'vitest';
import { RepeatLog } from '../../bed/simulator/log';

describe('RepeatLog', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('logs a failure when it changes and repeats it only once a minute', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const failures = new RepeatLog('alpha');
    failures.failed('content c', 'not found');
    failures.failed('content c', 'not found');
    failures.failed('content c', 'not found');
    failures.failed('content d', 'not found');
    expect(lines).toHaveLength(2);
    vi.advanceTimersByTime(61_000);
    failures.failed('content c', 'not found');
    expect(lines[2]).toMatch(/sim\[alpha\] content c: not found \(repeated 3x\)/);
    failures.failed('content c', 'other problem');
    expect(lines).toHaveLength(4);
  });
});
