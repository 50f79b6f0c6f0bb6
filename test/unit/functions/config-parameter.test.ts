import { afterAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '../../builders';
import { startFakeParameterStore } from '../../support/fake-parameter-store';
import { useFakeSecretsManagerForApiToken } from '../../support/fake-secrets-manager';

/**
 * A deployed function whose configuration is an SSM parameter that references its
 * secrets: the function as Lambda runs it, the SDK clients pointed at local stand-ins.
 */
const parameterStore = await startFakeParameterStore({
  '/skiff/test/config': 'api:\n  bearerTokens: [{ fromSecretsManager: skiff/api-token }]\n',
});
afterAll(() => parameterStore.close());
await useFakeSecretsManagerForApiToken('skiff/api-token', {
  SKIFF_CONFIG: '',
  SKIFF_CONFIG_PARAMETER: '/skiff/test/config',
  AWS_ENDPOINT_URL_SSM: parameterStore.endpoint,
});
const { handler } = await import('../../../functions/authorizer');

describe('Function: a handler configured by SKIFF_CONFIG_PARAMETER', () => {
  it('reads the parameter once, at cold start, and the token it references from Secrets Manager', async () => {
    // Act
    const accepted = await handler({ headers: { Authorization: 'Bearer token-1' } }, lambdaContext('skiff-dev-authorizer', 'request-1'));
    const refused = await handler({ headers: { Authorization: 'Bearer token-2' } }, lambdaContext('skiff-dev-authorizer', 'request-2'));

    // Assess
    expect([accepted, refused]).toEqual([{ isAuthorized: true }, { isAuthorized: false }]);
    expect(parameterStore.requests).toEqual([{ Name: '/skiff/test/config', WithDecryption: true }]);
  });
});
