import { beforeAll, describe, expect, it } from 'vitest';

// The function reads its configuration at cold start: one location on a closed port,
// so a request that reached the store would fail rather than answer.
process.env.SKIFF_CONFIG = JSON.stringify({
  api: { bearerTokens: ['route-test-token'] },
  storageLocations: [{ name: 'default', bucket: 'route-test', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true }],
});

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string } & Record<string, unknown>>;
let handler: Handler;

beforeAll(async () => {
  ({ handler } = (await import('../../../functions/restores')) as unknown as { handler: Handler });
});

function httpEvent(method: string, path: string, routeKey: string, body?: unknown) {
  return {
    routeKey,
    rawPath: path,
    headers: { authorization: 'Bearer route-test-token', 'content-type': 'application/json' },
    pathParameters: { name: 'r1' },
    requestContext: { http: { method, path } },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

describe('Function: restores', () => {
  it.each([
    ['DELETE /restores/{name}', 'DELETE', '/restores/r1', 405],
    ['GET /backups', 'GET', '/backups', 404],
  ])('answers %s (%s %s) with %i', async (routeKey, method, path, status) => {
    const response = await handler(httpEvent(method, path, routeKey), { awsRequestId: 'test' });
    expect(response.statusCode).toBe(status);
  });

  it.each([
    [{}, 'backupName'],
    [{ backupName: 'b1', includedNamespace: ['a'] }, 'includedNamespace'],
    [{ backupName: 'b1', existingResourcePolicy: 'overwrite' }, 'existingResourcePolicy'],
    [{ backupName: 'b1', namespaceMapping: { a: 'Not_A_Namespace' } }, 'namespaceMapping.a'],
    [{ backupName: 'b1', resourceModifiers: { version: 'v1', resourceModifierRules: [{ conditions: { groupResource: 'pods' }, patches: [{ path: '/a' }] }] } }, 'resourceModifiers.resourceModifierRules.0.patches.0.operation'],
  ])('answers POST /restores %j with 400 naming %s, before reading any store', async (body, field) => {
    const response = await handler(httpEvent('POST', '/restores', 'POST /restores', body), { awsRequestId: 'test' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain(field);
  });

  it('validates a direct invocation the same way', async () => {
    const answer = await handler({ backupName: 'b1', restorePVs: 'yes' }, { awsRequestId: 'test' });
    expect(JSON.stringify(answer)).toContain('restorePVs');
  });
});
