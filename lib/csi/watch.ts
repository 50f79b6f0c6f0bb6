import type { Clock } from '../core/clock';
import { logger } from '../core/logger';
import { DEFAULT_POLL_SCHEDULE, nextPollDelayMs, type PollSchedule } from './polling';

/**
 * Waits for many objects at once with one LIST per look, however many there are: a
 * thousand contents becoming ready (sync), or going away (expiry), cost a request
 * every few seconds, not a GET each. A watch would be cheaper still but needs a
 * connection held open for minutes, which a function invocation should not rely on.
 */

/** What watchByList works with. */
export interface WatchByListOptions<T, R> {
  /** One LIST that returns every watched object still there (and maybe others). */
  list(): Promise<T[]>;
  /** The keys of the objects to wait for. */
  keys: readonly string[];
  keyOf(object: T): string;
  /**
   * The verdict on one object at one look (`undefined` when it is gone): a value once it
   * has settled, undefined while it is still pending.
   */
  settle(key: string, object: T | undefined): R | undefined;
  clock: Clock;
  /** How long to wait in all, in milliseconds; then the rest are returned as pending. */
  timeoutMs: number;
  schedule?: PollSchedule;
  /** Names the wait in logs. */
  what: string;
}

/** The verdicts of the settled objects, and the last state of the rest (undefined: gone or never listed). */
export interface WatchByListResult<T, R> {
  settled: Map<string, R>;
  pending: Map<string, T | undefined>;
}

/**
 * Looks at the objects until each has settled or the time is up. A LIST that fails is
 * logged and tried again at the next look; objects keep their last known state.
 */
export async function watchByList<T, R>(options: WatchByListOptions<T, R>): Promise<WatchByListResult<T, R>> {
  const { clock } = options;
  const start = clock.now().getTime();
  const deadline = start + options.timeoutMs;
  const settled = new Map<string, R>();
  const pending = new Map<string, T | undefined>(options.keys.map((key) => [key, undefined]));
  let lastChangeAt = start;
  for (;;) {
    const listed = await listOrUndefined(options);
    if (listed) {
      const byKey = new Map(listed.map((object) => [options.keyOf(object), object]));
      for (const key of [...pending.keys()]) {
        const object = byKey.get(key);
        const verdict = options.settle(key, object);
        if (verdict === undefined) {
          pending.set(key, object);
          continue;
        }
        settled.set(key, verdict);
        pending.delete(key);
        lastChangeAt = clock.now().getTime();
      }
    }
    const now = clock.now().getTime();
    if (pending.size === 0 || now >= deadline) return { settled, pending };
    const schedule = options.schedule ?? DEFAULT_POLL_SCHEDULE;
    await clock.sleep(Math.max(1, nextPollDelayMs({ now, lastChangeAt, earliestDeadlineAt: deadline }, schedule)));
  }
}

async function listOrUndefined<T, R>(options: WatchByListOptions<T, R>): Promise<T[] | undefined> {
  try {
    return await options.list();
  } catch (error) {
    logger.warn(`could not list ${options.what}; trying again`, { error });
    return undefined;
  }
}
