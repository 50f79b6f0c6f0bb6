import middy from '@middy/core';
import { createBackup } from '../lib/backup/service';
import { reconcileBackups } from '../lib/backup/reconcile';
import { backupServiceDeps } from '../lib/backup/service';
import { durationMs } from '../lib/config';
import { lambdaInvoker, lambdaStartRun } from '../lib/runtime/invoker';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';
import { dispatchSchedules, gcDue } from '../lib/schedule';
import { readinessGate } from '../lib/readiness/schedule-gate';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
const readiness = readinessDeps(config);
const startExpiry = lambdaInvoker('SKIFF_EXPIRY_FUNCTION');
const gcFrequencyMs = durationMs(config.defaults.gcFrequency);

/**
 * Starts an expiry run, in an invocation of its own, for each storage location whose
 * gcFrequency period begins at this tick. Returns the locations started and those whose
 * start failed (their next period's run comes all the same).
 */
async function startExpiryRuns(now: Date): Promise<{ expiryStarted: string[]; expiryFailed: string[] }> {
  const due = config.storageLocations.map((l) => l.name).filter((name) => gcDue(name, now, gcFrequencyMs));
  const started: string[] = [];
  const failed: string[] = [];
  for (const location of due) {
    if (!startExpiry) {
      logger.warn('expiry is due but no expiry function is configured (SKIFF_EXPIRY_FUNCTION)', { storageLocation: location });
      continue;
    }
    try {
      await startExpiry({ location });
      started.push(location);
    } catch (error) {
      logger.error('could not start an expiry run', { storageLocation: location, error });
      failed.push(location);
    }
  }
  return { expiryStarted: started, expiryFailed: failed };
}

/**
 * Every minute: starts the backups the configured schedules owe (each slot exactly
 * once, unless its schedule's readiness gate blocks it), hands stalled backup runs to
 * fresh invocations, and starts the expiry runs that are due (one invocation per
 * storage location every gcFrequency).
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
  const expiry = await startExpiryRuns(now);
  return { ...schedules, restarted: reconciled.restarted, reconcileFailed: reconciled.failed, ...expiry };
}).use(lambdaLogContext());
