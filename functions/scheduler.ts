import middy from '@middy/core';
import { createBackup } from '../lib/backup/service';
import { reconcileBackups } from '../lib/backup/reconcile';
import { backupServiceDeps } from '../lib/backup/service';
import { durationMs, rediscoveryOffWarning } from '../lib/config';
import { lambdaInvoker, lambdaStartRun, SYNC_FUNCTION_ENV, type InvokeAsync } from '../lib/runtime/invoker';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';
import { dispatchSchedules, dueSyncs, gcDue } from '../lib/schedule';
import { readinessGate } from '../lib/readiness/schedule-gate';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
const readiness = readinessDeps(config);
const startExpiry = lambdaInvoker('SKIFF_EXPIRY_FUNCTION');
const startSync = lambdaInvoker(SYNC_FUNCTION_ENV);
const gcFrequencyMs = durationMs(config.defaults.gcFrequency);

// Said again here, where rediscovery would have been started: it is off, not failing.
for (const location of config.storageLocations) {
  const warning = rediscoveryOffWarning(location);
  if (warning) logger.warn('rediscovery is off', { storageLocation: location.name, warning });
}
if (!startSync) logger.warn(`no sync function configured (${SYNC_FUNCTION_ENV}): the scheduler starts no rediscovery`);
if (!startExpiry) logger.warn('no expiry function configured (SKIFF_EXPIRY_FUNCTION): the scheduler starts no expiry');

/**
 * One asynchronous invocation per payload, all at once; a start that fails is named
 * and logged, not thrown (the next due period starts it all the same).
 */
async function startAll<P extends object>(what: string, payloads: P[], invoke: InvokeAsync | undefined) {
  if (!invoke) return { started: [] as P[], failed: [] as (P & { error: string })[] };
  const outcomes = await Promise.allSettled(payloads.map((payload) => invoke(payload)));
  const failed = payloads.flatMap((payload, i) => {
    const outcome = outcomes[i]!;
    return outcome.status === 'rejected' ? [{ ...payload, error: (outcome.reason as Error).message }] : [];
  });
  if (failed.length > 0) logger.error(`some ${what} runs could not be started`, { failed });
  return { started: payloads.filter((_, i) => outcomes[i]!.status === 'fulfilled'), failed };
}

/**
 * Every minute: starts the backups the configured schedules owe (each slot exactly
 * once, unless its schedule's readiness gate blocks it), hands stalled backup runs to
 * fresh invocations, starts a rediscovery run for each (location, cluster) whose
 * refreshInterval is due, and an expiry run for each location every gcFrequency.
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
  const syncs = await startAll('sync', dueSyncs(config, now), startSync);
  const dueExpiry = config.storageLocations.filter((l) => gcDue(l.name, now, gcFrequencyMs)).map((l) => ({ location: l.name }));
  const expiry = await startAll('expiry', dueExpiry, startExpiry);
  return {
    ...schedules,
    restarted: reconciled.restarted,
    reconcileFailed: reconciled.failed,
    syncsStarted: syncs.started,
    syncsFailed: syncs.failed,
    expiryStarted: expiry.started.map((p) => p.location),
    expiryFailed: expiry.failed.map((p) => p.location),
  };
}).use(lambdaLogContext());
