import { describe, expect, it } from 'vitest';
import { lambdaContext } from '../../builders';
import { useFakeSecretsManagerForApiToken } from '../../support/fake-secrets-manager';

/** GET /backups/{name}'s query is checked before anything is read. */
await useFakeSecretsManagerForApiToken('skiff/api-token', { SKIFF_RUNNER_FUNCTION: '' });
const { handler } = await import('../../../functions/backups');

describe('Function: backups handler, GET /backups/{name}', () => {
  it('refuses a details value it does not know with 400 naming the field and what is allowed', async () => {
    const event = {
      routeKey: 'GET /backups/{name}',
      rawPath: '/backups/b1',
      pathParameters: { name: 'b1' },
      queryStringParameters: { details: 'yes' },
      headers: { authorization: 'Bearer token-1' },
      requestContext: { http: { method: 'GET', path: '/backups/b1' } },
    };
    const answer = (await handler(event, lambdaContext('skiff-dev-backups', 'request-1'))) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body).issues).toEqual([expect.objectContaining({ path: 'details', message: expect.stringContaining('allowed: true') })]);
  });
});
