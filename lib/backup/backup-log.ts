/** A backup's log: the shared job log (lib/core/job-log.ts) under the name the backup code uses. */
export { JobLog as BackupLog, logText } from '../core/job-log';
