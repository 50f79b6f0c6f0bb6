import { createBackup } from '../lib/backup/service';
import { reconcileBackups } from '../lib/backup/reconcile';
import { backupServiceDeps } from '../lib/backup/wiring';
import { lambdaStartRun } from '../lib/dispatch';
import { logger } from '../lib/logger';
import { runtime } from '../lib/runtime';
import { dispatchSchedules } from '../lib/schedule';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();

/**
 * Every minute: starts the backups the configured schedules owe (each slot exactly
 * once), and hands stalled backup runs to fresh invocations.
 */
export const handler = async () => {
  const now = new Date();
  const schedules = await dispatchSchedules(
    { schedules: config.schedules, createBackup: (request, options) => createBackup(deps, request, options), startRun },
    now,
  );
  const reconciled = await reconcileBackups(config, startRun, now);
  if (schedules.created.length > 0 || schedules.failed.length > 0) logger.info('schedules dispatched', { ...schedules });
  return { ...schedules, restarted: reconciled.restarted };
};
