import { afterAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../builders';

/**
 * The sync function's answers to callers' mistakes, which it gives before it reads a
 * bucket or reaches a cluster: 400 naming each field, 404 for an unknown location or
 * cluster, the same for direct invocations.
 */
vi.stubEnv('SKIFF_CONFIG_FILE', '');
vi.stubEnv(
  'SKIFF_CONFIG',
  JSON.stringify({
    api: { bearerTokens: ['token-1'] },
    clusters: [
      { name: 'alpha', server: 'https://127.0.0.1:1', auth: { token: 't' }, storageLocations: ['default'] },
      { name: 'beta', server: 'https://127.0.0.1:1', auth: { token: 't' }, storageLocations: ['other'] },
    ],
    storageLocations: [
      { name: 'default', bucket: 'skiff-test' },
      { name: 'other', bucket: 'skiff-other', refreshInterval: '0' },
    ],
  }),
);
vi.stubEnv('SKIFF_SYNC_FUNCTION', '');
const { handler } = await import('../../../functions/sync');

afterAll(() => vi.unstubAllEnvs());

let requests = 0;
async function call(method: string, path: string, body?: unknown, query?: Record<string, string>) {
  const event = {
    routeKey: `${method} ${path}`,
    rawPath: path,
    headers: { authorization: 'Bearer token-1' },
    ...(query ? { queryStringParameters: query } : {}),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    requestContext: { http: { method, path } },
  };
  const answer = (await handler(event, lambdaContext('skiff-dev-sync', `request-${++requests}`))) as { statusCode: number; body: string };
  return { status: answer.statusCode, body: JSON.parse(answer.body) as { error: string; message: string; issues?: { path: string }[] } };
}

describe('Function: sync handler', () => {
  it.each([
    ['a location that is not a string', { location: 3 }, ['location']],
    ['dryRun that is not a boolean', { dryRun: 'yes' }, ['dryRun']],
    ['an unknown field and an empty cluster', { cluster: '', force: true }, ['cluster', 'force']],
  ])('POST /sync refuses %s with 400 naming each field', async (_, body, paths) => {
    const { status, body: answer } = await call('POST', '/sync', body);
    expect(status).toBe(400);
    expect(answer.error).toBe('ValidationError');
    expect(answer.issues!.map((i) => i.path).sort()).toEqual(paths);
  });

  it.each([
    ['an unknown location', { location: 'nowhere' }, /storage location "nowhere" not found; configured: default, other/],
    ['an unknown cluster', { cluster: 'gamma' }, /cluster "gamma" not found; configured: alpha, beta/],
  ])('POST /sync answers 404 for %s', async (_, body, message) => {
    const { status, body: answer } = await call('POST', '/sync', body);
    expect(status).toBe(404);
    expect(answer.message).toMatch(message);
  });

  it('POST /sync refuses a cluster that does not use the location asked for', async () => {
    const { status, body } = await call('POST', '/sync', { location: 'default', cluster: 'beta' });
    expect(status).toBe(400);
    expect(body.message).toMatch(/cluster "beta" does not use storage location "default"; it uses other/);
  });

  it('GET /sync/report answers 404 for an unknown location', async () => {
    const { status } = await call('GET', '/sync/report', undefined, { location: 'nowhere' });
    expect(status).toBe(404);
  });

  it('a direct invocation with a bad body answers the same issues', async () => {
    const answer = (await handler({ location: 'nowhere' }, lambdaContext('skiff-dev-sync', 'direct-1'))) as { error: string; message: string };
    expect(answer).toMatchObject({ error: 'NotFoundError' });
    expect(answer.message).toMatch(/storage location "nowhere" not found/);
  });

  it('GET /storage-locations says which locations have rediscovery off, and what that loses', async () => {
    const { status, body } = await call('GET', '/storage-locations');
    const items = (body as unknown as { items: { name: string; rediscovery: string; warning?: string; refreshInterval: string }[] }).items;
    expect(status).toBe(200);
    expect(items.map((l) => [l.name, l.rediscovery])).toEqual([['default', 'on'], ['other', 'off']]);
    expect(items[1]!.warning).toMatch(/rediscovery is OFF for storage location "other".*after a disaster the backups on it are not found again/);
    expect(JSON.stringify(items)).not.toMatch(/secretAccessKey|token/);
  });
});
