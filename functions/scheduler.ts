import middy from '@middy/core';
import { createBackup } from '../lib/backup/service';
import { reconcileBackups } from '../lib/backup/reconcile';
import { backupServiceDeps } from '../lib/backup/service';
import { lambdaInvoker, lambdaStartRun, SYNC_FUNCTION_ENV } from '../lib/runtime/invoker';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';
import { dispatchSchedules, dueSyncs } from '../lib/schedule';
import { rediscoveryOffWarning } from '../lib/config';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
const startSync = lambdaInvoker(SYNC_FUNCTION_ENV);

// Said again here, where rediscovery would have been started: it is off, not failing.
for (const location of config.storageLocations) {
  const warning = rediscoveryOffWarning(location);
  if (warning) logger.warn('rediscovery is off', { storageLocation: location.name, warning });
}
if (!startSync) logger.warn(`no sync function configured (${SYNC_FUNCTION_ENV}): the scheduler starts no rediscovery`);

/** One asynchronous sync invocation per due (location, cluster); failures are named, not thrown. */
async function startDueSyncs(now: Date): Promise<{ syncsStarted: number; syncsFailed: { location: string; cluster: string; error: string }[] }> {
  if (!startSync) return { syncsStarted: 0, syncsFailed: [] };
  const due = dueSyncs(config, now);
  const outcomes = await Promise.allSettled(due.map((pair) => startSync(pair)));
  const syncsFailed = due.flatMap((pair, i) => {
    const outcome = outcomes[i]!;
    return outcome.status === 'rejected' ? [{ ...pair, error: (outcome.reason as Error).message }] : [];
  });
  if (syncsFailed.length > 0) logger.error('some sync runs could not be started', { syncsFailed });
  return { syncsStarted: due.length - syncsFailed.length, syncsFailed };
}

/**
 * Every minute: starts the backups the configured schedules owe (each slot exactly
 * once), hands stalled backup runs to fresh invocations, and starts a rediscovery run
 * for each (location, cluster) whose location's refreshInterval is due.
 */
export const handler = middy(async () => {
  const now = new Date();
  const schedules = await dispatchSchedules(
    { schedules: config.schedules, createBackup: (request, options) => createBackup(deps, request, options), startRun },
    now,
  );
  if (schedules.failed.length > 0) logger.error('some scheduled backups could not be started', { ...schedules });
  else if (schedules.created.length > 0) logger.info('schedules dispatched', { ...schedules });
  const reconciled = await reconcileBackups({ config, storeFor: deps.storeFor, startRun }, now);
  const syncs = await startDueSyncs(now);
  return { ...schedules, restarted: reconciled.restarted, reconcileFailed: reconciled.failed, ...syncs };
}).use(lambdaLogContext());
