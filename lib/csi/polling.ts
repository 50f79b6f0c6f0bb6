/**
 * How often to look again while waiting for snapshot objects to change (ready, bound,
 * gone), as a pure function: one schedule for backup, sync and expiry.
 */

/** Bounds of the polling interval. */
export interface PollSchedule {
  minMs: number;
  maxMs: number;
}

/**
 * Fast at first (most snapshots of most drivers take seconds), then every 2 s, which
 * keeps a long wait (minutes, for a slow storage system) at a few requests a minute.
 */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = { minMs: 250, maxMs: 2000 };

/** What the next poll's timing depends on. */
export interface NextPollInput {
  now: number;
  /** When the last snapshot was started or settled: things are moving, look again soon. */
  lastChangeAt: number;
  /** The earliest deadline of the pending snapshots. */
  earliestDeadlineAt: number;
}

/**
 * How long to wait before the next look at all pending snapshots: half the time since
 * the last change (a snapshot started, became ready or failed) within the schedule's
 * bounds, so the wait backs off while nothing happens and speeds up again when
 * snapshots start finishing, as they tend to do together; never past a deadline, so a
 * timeout is declared on time.
 */
export function nextPollDelayMs(input: NextPollInput, schedule: PollSchedule = DEFAULT_POLL_SCHEDULE): number {
  const quiet = Math.max(0, input.now - input.lastChangeAt);
  const backoff = Math.min(schedule.maxMs, Math.max(schedule.minMs, quiet / 2));
  const untilDeadline = Math.max(0, input.earliestDeadlineAt - input.now);
  return Math.round(Math.min(backoff, untilDeadline));
}
