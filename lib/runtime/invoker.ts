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
  const invoke = lambdaInvoker('SKIFF_RUNNER_FUNCTION', env);
  if (!invoke) {
    return async (backupName) => {
      logger.warn('no runner function configured (SKIFF_RUNNER_FUNCTION); the backup waits for the reconcile schedule', {
        backup: backupName,
      });
    };
  }
  return (backupName) => invoke({ backup: backupName });
}

/** Sends one asynchronous invocation (the function answers at once; the run happens in its own invocation). */
export type InvokeAsync = (payload: unknown) => Promise<void>;

/**
 * An asynchronous invoker of the function the environment variable `functionNameEnv`
 * names (set by serverless.yml, e.g. SKIFF_EXPIRY_FUNCTION), or undefined when it is not
 * set (the caller says what happens instead). SKIFF_LAMBDA_ENDPOINT points at a local
 * Lambda API (serverless offline) instead of AWS.
 */
export function lambdaInvoker(functionNameEnv: string, env: Record<string, string | undefined> = process.env): InvokeAsync | undefined {
  const functionName = env[functionNameEnv];
  if (!functionName) return undefined;
  const client = new LambdaClient({
    ...(env.SKIFF_LAMBDA_ENDPOINT ? { endpoint: env.SKIFF_LAMBDA_ENDPOINT } : {}),
  });
  return async (payload) => {
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  };
}

/** The environment variable naming the sync function. */
export const SYNC_FUNCTION_ENV = 'SKIFF_SYNC_FUNCTION';
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
