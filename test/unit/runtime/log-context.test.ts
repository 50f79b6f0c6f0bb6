import middy from '@middy/core';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../builders';

// Set by Lambda for an on-demand function; Powertools reports cold starts only then.
vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
const { logger } = await import('../../../lib/core/logger');
const { lambdaLogContext } = await import('../../../lib/runtime/log-context');
afterAll(() => vi.unstubAllEnvs());

let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** A function that handles one backup, as the backup runner does. */
const handler = middy(async (event: { backup: string }) => {
  logger.appendKeys({ backup: event.backup, cluster: 'prod-eu' });
  logger.info('backup run ended', { state: 'completed' });
}).use(lambdaLogContext());

describe('Function: lambdaLogContext', () => {
  it('puts the request id, cold start and function name on every line, and the run keys until the invocation ends', async () => {
    // Act
    await handler({ backup: 'b1' }, lambdaContext('skiff-dev-backupRunner', 'request-1'));
    logger.info('between invocations');
    await handler({ backup: 'b2' }, lambdaContext('skiff-dev-backupRunner', 'request-2'));

    // Assess
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'backup run ended',
      service: 'skiff',
      function_name: 'skiff-dev-backupRunner',
      function_request_id: 'request-1',
      cold_start: true,
      backup: 'b1',
      cluster: 'prod-eu',
      state: 'completed',
    });
    expect(lines[1]!.backup).toBeUndefined();
    expect(lines[2]).toMatchObject({ function_request_id: 'request-2', cold_start: false, backup: 'b2' });
  });
});
