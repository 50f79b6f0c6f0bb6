import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { backupRunnerDeps } from '../lib/backup/runner-deps';
import { runBackup } from '../lib/backup/run-backup';
import { reconcileBackups } from '../lib/backup/reconcile';
import { storeResolver } from '../lib/store/resolver';
import { lambdaStartRun } from '../lib/runtime/invoker';
import { NotFoundError } from '../lib/core/errors';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

const { config } = runtime();
const startRun = lambdaStartRun();
const storeFor = storeResolver(config);

const runEventSchema = z.union([
  z.strictObject({ backup: z.string().min(1) }),
  // The reconcile schedule: continue backups whose runner stopped without handing on.
  z.strictObject({ reconcile: z.literal(true) }),
]);

/**
 * Runs one backup until it completes, fails, or nears the function's time limit; a
 * paused run hands itself on to a fresh invocation. Also the target of a reconcile
 * schedule that picks up runs whose invocation died.
 */
export const handler = middy(async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const parsed = runEventSchema.safeParse(event);
  if (!parsed.success) {
    return { error: 'ValidationError', message: 'expected {"backup": "<name>"} or {"reconcile": true}' };
  }
  const remainingMs = () => context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  if ('reconcile' in parsed.data) {
    return reconcileBackups({ config, storeFor, startRun }, new Date());
  }
  const name = parsed.data.backup;
  // Every line of this invocation names the backup; runBackup adds its cluster.
  logger.appendKeys({ backup: name });
  let outcome;
  try {
    outcome = await runBackup(await backupRunnerDeps(config, remainingMs, name), name);
  } catch (error) {
    // A duplicate start (a hand-off and the reconcile, or a retried invocation) can
    // arrive after the backup finished and its progress record is gone: nothing to do.
    if (!(error instanceof NotFoundError)) throw error;
    logger.info('nothing to run: the backup has finished or was never created', { backup: name });
    return { backup: name, state: 'gone' };
  }
  logger.info('backup run ended', { backup: name, ...outcome });
  if (outcome.state === 'paused') await startRun(name);
  return { backup: name, ...outcome };
}).use(lambdaLogContext());
