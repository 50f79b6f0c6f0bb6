import { describe, expect, it, vi } from 'vitest';
import { SECRET_MAX_AGE_SECONDS } from '../../../lib/config';
import { lambdaContext } from '../../builders';
import { useFakeSecretsManagerForApiToken } from '../../support/fake-secrets-manager';

/**
 * The deployed backups function checks every HTTP call's credentials again, read from
 * Secrets Manager (a local stand-in here) like the authorizer's.
 */
const TOKEN_ID = 'skiff/api-token';
const secretsManager = await useFakeSecretsManagerForApiToken(TOKEN_ID, { SKIFF_RUNNER_FUNCTION: '' });
const { handler } = await import('../../../functions/backups');

let requests = 0;
/** GET /backups as the HTTP API delivers it; no storage location is configured, so a let-through call lists nothing. */
const listBackups = async (authorization: string) => {
  const event = {
    routeKey: 'GET /backups',
    rawPath: '/backups',
    headers: { authorization },
    requestContext: { http: { method: 'GET', path: '/backups' } },
  };
  return ((await handler(event, lambdaContext('skiff-dev-backups', `request-${++requests}`))) as { statusCode: number }).statusCode;
};

describe('Function: backups handler', () => {
  it('answers the next call once Secrets Manager answers again after an outage', async () => {
    // Prepare
    secretsManager.down = true;
    expect(await listBackups('Bearer token-1')).toBe(500);

    // Act
    secretsManager.down = false;
    const status = await listBackups('Bearer token-1');

    // Assess
    expect(status).toBe(200);
  });

  it('accepts a rotated token once the value it read is older than its max age, and refuses the old one', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    expect(await listBackups('Bearer token-1')).toBe(200);
    secretsManager.secrets.set(TOKEN_ID, 'token-2');
    expect(await listBackups('Bearer token-2')).toBe(401);

    // Act
    vi.setSystemTime(Date.now() + (SECRET_MAX_AGE_SECONDS + 1) * 1000);
    const rotated = await listBackups('Bearer token-2');
    const old = await listBackups('Bearer token-1');

    // Assess
    expect(rotated).toBe(200);
    expect(old).toBe(401);
  });
});
