export {
  matches,
  neverFires,
  parseCron,
  tryParseCron,
  type CronParseResult,
  type CronSchedule,
  type EverySchedule,
  type FieldsSchedule,
} from './cron';
export { DEFAULT_LOOKBACK_MINUTES, dueSlots } from './due-slots';
export { dispatchSchedules, type DispatchDeps, type DispatchFailure, type DispatchReport } from './dispatch';
export { timeZoneIssue, wallClock, type WallClock } from './time-zone';
export { gcDue } from './gc-due';
export { dueSyncs, isSyncDue, type SyncStart } from './sync-due';
export { NEXT_RUN_HORIZON_DAYS, nextRun } from './next-run';
export { scheduleStorageLocation, scheduleView, type ScheduleFacts, type ScheduleView } from './view';
