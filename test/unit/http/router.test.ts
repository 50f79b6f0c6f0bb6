import { describe, expect, it } from 'vitest';
import { MethodNotAllowedError, NotFoundError } from '../../../lib/core/errors';
import type { HttpApiEvent } from '../../../lib/http/events';
import { jsonResponse } from '../../../lib/http/responses';
import { routeRequest } from '../../../lib/http/router';

const route = routeRequest({
  'GET /backups': async () => jsonResponse(200, 'list'),
  'POST /backups': async () => jsonResponse(202, 'create'),
  'GET /backups/{name}': async () => jsonResponse(200, 'get'),
  'GET /backups/{name}/logs': async () => jsonResponse(200, 'logs'),
});

function event(method: string, path: string, routeKey?: string): HttpApiEvent {
  return { routeKey, rawPath: path, requestContext: { http: { method, path } } };
}

describe('Function: routeRequest', () => {
  it.each([
    ['by route key', event('GET', '/backups/b1', 'GET /backups/{name}'), 'get'],
    ['the list by route key', event('GET', '/backups', 'GET /backups'), 'list'],
    ['by path under $default', event('GET', '/backups/b1/logs', '$default'), 'logs'],
    ['by path without a route key', event('POST', '/backups'), 'create'],
  ])('answers a known route %s', async (_, request, body) => {
    expect(JSON.parse((await route(request)).body)).toBe(body);
  });

  it.each([
    ['DELETE on a known path is 405, not a list', event('DELETE', '/backups/b1', 'DELETE /backups/{name}'), MethodNotAllowedError, 405],
    ['PUT on the collection is 405', event('PUT', '/backups', '$default'), MethodNotAllowedError, 405],
    ['an unknown path is 404', event('GET', '/restores', 'GET /restores'), NotFoundError, 404],
    ['a deeper unknown path is 404', event('GET', '/backups/b1/other', '$default'), NotFoundError, 404],
  ])('%s', async (_, request, type, status) => {
    const error = await route(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as { status: number }).status).toBe(status);
  });
});
