import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { logger } from '../core/logger';

/**
 * Starts (or continues) a backup run in its own invocation of the runner function,
 * asynchronously: an HTTP request answers at once, and a run that pauses before the
 * 15-minute limit hands itself on the same way.
 *
 * SKIFF_RUNNER_FUNCTION names the runner (set by serverless.yml); SKIFF_LAMBDA_ENDPOINT
 * points at a local Lambda API (serverless offline) instead of AWS.
 */
export type StartRun = (backupName: string) => Promise<void>;

export function lambdaStartRun(env: Record<string, string | undefined> = process.env): StartRun {
  const functionName = env.SKIFF_RUNNER_FUNCTION;
  if (!functionName) {
    return async (backupName) => {
      logger.warn('no runner function configured (SKIFF_RUNNER_FUNCTION); the backup waits for the reconcile schedule', {
        backup: backupName,
      });
    };
  }
  const client = new LambdaClient({
    ...(env.SKIFF_LAMBDA_ENDPOINT ? { endpoint: env.SKIFF_LAMBDA_ENDPOINT } : {}),
  });
  return async (backupName) => {
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ backup: backupName })),
      }),
    );
  };
}

/** Starts (or continues) a restore run in its own invocation of the restore runner. */
export type StartRestoreRun = (restoreName: string) => Promise<void>;

/**
 * The restores' counterpart of lambdaStartRun: invokes SKIFF_RESTORE_RUNNER_FUNCTION
 * asynchronously with `{"restore": name}`. Without one configured, the restore waits
 * (logged) until it is started by hand.
 */
export function lambdaStartRestoreRun(env: Record<string, string | undefined> = process.env): StartRestoreRun {
  const functionName = env.SKIFF_RESTORE_RUNNER_FUNCTION;
  if (!functionName) {
    return async (restoreName) => {
      logger.warn('no restore runner function configured (SKIFF_RESTORE_RUNNER_FUNCTION); the restore is not started', { restore: restoreName });
    };
  }
  const client = new LambdaClient({
    ...(env.SKIFF_LAMBDA_ENDPOINT ? { endpoint: env.SKIFF_LAMBDA_ENDPOINT } : {}),
  });
  return async (restoreName) => {
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ restore: restoreName })),
      }),
    );
  };
}
