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

/** Starts another function asynchronously with `payload` as its event. */
export type InvokeAsync = (payload: unknown) => Promise<void>;

/**
 * An asynchronous invoker of the function named by the environment variable `envName`
 * (set by serverless.yml), e.g. SKIFF_SYNC_FUNCTION. Undefined when it is not set, so
 * callers decide what to do without it (run in-process, or say so).
 */
export function lambdaInvoker(envName: string, env: Record<string, string | undefined> = process.env): InvokeAsync | undefined {
  const functionName = env[envName];
  if (!functionName) return undefined;
  const client = new LambdaClient({
    ...(env.SKIFF_LAMBDA_ENDPOINT ? { endpoint: env.SKIFF_LAMBDA_ENDPOINT } : {}),
  });
  return async (payload) => {
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
  };
}

/** The environment variable naming the sync function. */
export const SYNC_FUNCTION_ENV = 'SKIFF_SYNC_FUNCTION';
