import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { restoreRunnerDeps } from '../lib/restore/runner-deps';
import { runRestore } from '../lib/restore/run-restore';
import { lambdaStartRestoreRun } from '../lib/runtime/invoker';
import { ConflictError, NotFoundError } from '../lib/core/errors';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

const { config } = runtime();
const startRun = lambdaStartRestoreRun();

const runEventSchema = z.strictObject({ restore: z.string().min(1) });

/**
 * Runs one restore until it finishes or nears the function's time limit; a paused run
 * hands itself on to a fresh invocation, which goes on from the record's cursor.
 */
export const handler = middy(async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const parsed = runEventSchema.safeParse(event);
  if (!parsed.success) return { error: 'ValidationError', message: 'expected {"restore": "<name>"}' };
  const name = parsed.data.restore;
  logger.appendKeys({ restore: name });
  const remainingMs = () => context?.getRemainingTimeInMillis() ?? 15 * 60_000;
  let outcome;
  try {
    outcome = await runRestore(await restoreRunnerDeps(config, remainingMs, name), name);
  } catch (error) {
    // Another invocation owns the restore (a duplicate start), or it was never recorded.
    if (!(error instanceof NotFoundError) && !(error instanceof ConflictError)) throw error;
    logger.info('nothing to run for this restore', { restore: name, reason: (error as Error).message });
    return { restore: name, state: 'skipped' };
  }
  logger.info('restore run ended', { restore: name, ...outcome });
  if (outcome.state === 'paused') await startRun(name);
  return { restore: name, ...outcome };
}).use(lambdaLogContext());
