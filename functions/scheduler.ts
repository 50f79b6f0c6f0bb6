import middy from '@middy/core';
import { createBackup } from '../lib/backup/service';
import { reconcileBackups } from '../lib/backup/reconcile';
import { backupServiceDeps } from '../lib/backup/service';
import { lambdaStartRun } from '../lib/runtime/invoker';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';
import { dispatchSchedules } from '../lib/schedule';
import { readinessGate } from '../lib/readiness/schedule-gate';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
const readiness = readinessDeps(config);

/**
 * Every minute: starts the backups the configured schedules owe (each slot exactly
 * once, unless its schedule's readiness gate blocks it), and hands stalled backup runs
 * to fresh invocations.
 */
export const handler = middy(async () => {
  const now = new Date();
  // One gate per tick: each cluster is checked at most once, and only for new slots.
  const gate = readinessGate({ config, storeFor: deps.storeFor, check: (cluster) => checkReadiness(readiness, cluster), clock: readiness.clock });
  const schedules = await dispatchSchedules(
    { schedules: config.schedules, createBackup: (request, options) => createBackup(deps, request, options), startRun, readinessGate: gate },
    now,
  );
  if (schedules.blocked) logger.warn('scheduled backups skipped by readiness checks', { blocked: schedules.blocked });
  if (schedules.failed.length > 0) logger.error('some scheduled backups could not be started', { ...schedules });
  else if (schedules.created.length > 0) logger.info('schedules dispatched', { ...schedules });
  const reconciled = await reconcileBackups({ config, storeFor: deps.storeFor, startRun }, now);
  return { ...schedules, restarted: reconciled.restarted, reconcileFailed: reconciled.failed };
}).use(lambdaLogContext());
