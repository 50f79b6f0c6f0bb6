import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../builders';

/**
 * GET /healthz as Lambda runs it: anonymous, so it says only whether the configuration
 * can be used. Each case loads the function afresh (a cold start) under its own
 * configuration.
 */
type Answer = { statusCode: number; body: string };

async function coldStartWith(config: string): Promise<(event: unknown, context: unknown) => Promise<Answer>> {
  vi.resetModules();
  process.env.SKIFF_CONFIG = config;
  return ((await import('../../../functions/healthz')) as unknown as { handler: (event: unknown, context: unknown) => Promise<Answer> }).handler;
}

const event = { routeKey: 'GET /healthz', rawPath: '/healthz', headers: {}, requestContext: { http: { method: 'GET', path: '/healthz' } } };
const secretToken = 'healthz-test-secret-token';
const valid = JSON.stringify({
  api: { bearerTokens: [secretToken] },
  clusters: [{ name: 'alpha', server: 'https://127.0.0.1:9', auth: { token: secretToken }, storageLocations: ['default'] }],
  storageLocations: [{ name: 'default', bucket: 'healthz-test', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true }],
});

afterEach(() => {
  delete process.env.SKIFF_CONFIG;
});

describe('Function: healthz', () => {
  it.each([
    { what: 'a valid configuration', config: valid, statusCode: 200, status: 'ok' },
    { what: 'a configuration that does not validate', config: JSON.stringify({ clusters: [{ name: 'alpha' }] }), statusCode: 503, status: 'not ok' },
    { what: 'a configuration that is not YAML', config: 'clusters: [unclosed', statusCode: 503, status: 'not ok' },
  ])('answers $what with $statusCode and only "$status"', async ({ config, statusCode, status }) => {
    // Prepare
    const handler = await coldStartWith(config);

    // Act
    const answer = await handler(event, lambdaContext('skiff-dev-healthz', 'request-1'));

    // Assess
    expect(answer.statusCode).toBe(statusCode);
    expect(JSON.parse(answer.body)).toEqual({ status });
    expect(answer.body).not.toContain(secretToken);
  });
});
