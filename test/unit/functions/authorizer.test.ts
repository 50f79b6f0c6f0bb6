import { describe, expect, it, vi } from 'vitest';
import { SECRET_MAX_AGE_SECONDS } from '../../../lib/config';
import { lambdaContext } from '../../builders';
import { useFakeSecretsManagerForApiToken } from '../../support/fake-secrets-manager';

/**
 * The deployed authorizer, its API token in Secrets Manager: the function as Lambda
 * runs it, its SDK client pointed at a local stand-in for the service.
 */
const TOKEN_ID = 'skiff/api-token';
const secretsManager = await useFakeSecretsManagerForApiToken(TOKEN_ID);
const { handler } = await import('../../../functions/authorizer');

let requests = 0;
const authorize = (authorization: string) =>
  handler({ headers: { Authorization: authorization } }, lambdaContext('skiff-dev-authorizer', `request-${++requests}`));

describe('Function: authorizer handler', () => {
  it('authorizes the next call once Secrets Manager answers again after an outage', async () => {
    // Prepare
    secretsManager.down = true;
    await expect(authorize('Bearer token-1')).rejects.toThrow();

    // Act
    secretsManager.down = false;
    const answer = await authorize('Bearer token-1');

    // Assess
    expect(answer).toEqual({ isAuthorized: true });
  });

  it('accepts a rotated token once the value it read is older than its max age, and refuses the old one', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'], now: new Date() });
    expect(await authorize('Bearer token-1')).toEqual({ isAuthorized: true });
    secretsManager.secrets.set(TOKEN_ID, 'token-2');
    const calls = secretsManager.calls;
    // Within the max age the value read before is used: no call to Secrets Manager per request.
    expect(await authorize('Bearer token-2')).toEqual({ isAuthorized: false });
    expect(secretsManager.calls).toBe(calls);

    // Act
    vi.setSystemTime(Date.now() + (SECRET_MAX_AGE_SECONDS + 1) * 1000);
    const rotated = await authorize('Bearer token-2');
    const old = await authorize('Bearer token-1');

    // Assess
    expect(rotated).toEqual({ isAuthorized: true });
    expect(old).toEqual({ isAuthorized: false });
  });
});
