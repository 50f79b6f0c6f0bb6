import { beforeAll, describe, expect, it } from 'vitest';

// The function reads its configuration at cold start: one location on a closed port,
// so any request that reached the store would fail rather than answer.
process.env.SKIFF_CONFIG = JSON.stringify({
  api: { bearerTokens: ['route-test-token'] },
  storageLocations: [{ name: 'default', bucket: 'route-test', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true }],
});

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
let handler: Handler;

beforeAll(async () => {
  ({ handler } = (await import('../../../functions/backups')) as unknown as { handler: Handler });
});

function httpEvent(method: string, path: string, routeKey: string) {
  return {
    routeKey,
    rawPath: path,
    headers: { authorization: 'Bearer route-test-token' },
    pathParameters: { name: 'b1' },
    requestContext: { http: { method, path } },
  };
}

describe('Function: backups (HTTP routes)', () => {
  it.each([
    ['DELETE /backups/{name}', 'DELETE', '/backups/b1', 405],
    ['PUT /backups', 'PUT', '/backups', 405],
    ['GET /restores', 'GET', '/restores', 404],
  ])('answers %s (%s %s) with %i, never with a list', async (routeKey, method, path, status) => {
    const response = await handler(httpEvent(method, path, routeKey), { awsRequestId: 'test' });
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body).error).toMatch(/NotFound|MethodNotAllowed/);
  });
});

describe('Function: backups (schedule routes)', () => {
  it('answers GET /schedules with no schedules configured with an empty list, reading no store', async () => {
    const response = await handler(httpEvent('GET', '/schedules', 'GET /schedules'), { awsRequestId: 'test' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ items: [], unreadable: [] });
  });

  it('answers an unknown schedule with 404 saying none are configured', async () => {
    const response = await handler(httpEvent('GET', '/schedules/b1', 'GET /schedules/{name}'), { awsRequestId: 'test' });
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).message).toBe('schedule "b1" not found; no schedules are configured (schedules[] in the configuration)');
  });

  it('refuses a query parameter on GET /schedules with 400 naming it', async () => {
    const event = { ...httpEvent('GET', '/schedules', 'GET /schedules'), queryStringParameters: { cluster: 'alpha' } };
    const response = await handler(event, { awsRequestId: 'test' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('cluster');
  });
});
