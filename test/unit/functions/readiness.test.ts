import { beforeAll, describe, expect, it } from 'vitest';

// Configuration read at cold start: one cluster on a closed port, so a request that
// got past validation would fail to connect rather than answer.
process.env.SKIFF_CONFIG = JSON.stringify({
  api: { bearerTokens: ['readiness-test-token'] },
  clusters: [{ name: 'alpha', server: 'https://127.0.0.1:9', auth: { token: 'x' }, storageLocations: ['default'] }],
  storageLocations: [{ name: 'default', bucket: 'readiness-test', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true }],
});

type Answer = { statusCode: number; body: string } & Record<string, unknown>;
type Handler = (event: unknown, context: unknown) => Promise<Answer>;
let handler: Handler;

beforeAll(async () => {
  ({ handler } = (await import('../../../functions/readiness')) as unknown as { handler: Handler });
});

function httpEvent(method: string, path: string, routeKey: string, query?: Record<string, string>, token = 'readiness-test-token') {
  return {
    routeKey,
    rawPath: path,
    headers: { authorization: `Bearer ${token}` },
    pathParameters: { name: path.split('/')[2] },
    queryStringParameters: query,
    requestContext: { http: { method, path } },
  };
}

describe('Function: readiness', () => {
  it.each([
    { name: 'an unknown cluster', event: httpEvent('GET', '/clusters/nope/readiness', 'GET /clusters/{name}/readiness'), status: 404, error: 'NotFoundError', message: /cluster "nope" not found; configured: alpha/ },
    { name: 'a bad namespace list', event: httpEvent('GET', '/clusters/alpha/readiness', 'GET /clusters/{name}/readiness', { namespaces: 'Shop!' }), status: 400, error: 'ValidationError', message: /namespaces/ },
    { name: 'an unknown query parameter', event: httpEvent('GET', '/clusters/alpha/readiness', 'GET /clusters/{name}/readiness', { cluster: 'x' }), status: 400, error: 'ValidationError', message: /cluster/ },
    { name: 'another method', event: httpEvent('POST', '/clusters/alpha/readiness', 'POST /clusters/{name}/readiness'), status: 405, error: 'MethodNotAllowedError', message: /allowed: GET/ },
    { name: 'a wrong token', event: httpEvent('GET', '/clusters/alpha/readiness', 'GET /clusters/{name}/readiness', undefined, 'wrong'), status: 401, error: 'AuthenticationError', message: /./ },
  ])('answers $name with $status', async ({ event, status, error, message }) => {
    const response = await handler(event, { awsRequestId: 'test' });
    expect(response.statusCode).toBe(status);
    const body = JSON.parse(response.body);
    expect(body.error).toBe(error);
    expect(body.message).toMatch(message);
  });

  it.each([
    { event: {}, issue: 'cluster' },
    { event: { cluster: 'alpha', namespaces: [] }, issue: 'namespaces' },
    { event: { cluster: 'alpha', extra: true }, issue: 'extra' },
  ])('refuses the direct invocation $event naming $issue', async ({ event, issue }) => {
    const answer = await handler(event, { awsRequestId: 'test' });
    expect(answer).toMatchObject({ error: 'ValidationError' });
    expect(JSON.stringify(answer)).toContain(issue);
  });
});
