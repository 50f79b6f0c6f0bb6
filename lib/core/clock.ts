/**
 * The one shape of time in Skiff: the wall clock and a way to wait. Logic takes a
 * Clock as an argument instead of calling Date.now() or setTimeout, so tests decide
 * what "now" is (an expired backup, a snapshot past its deadline) without waiting.
 */
export interface Clock {
  now(): Date;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
