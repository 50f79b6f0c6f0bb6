import { MethodNotAllowedError, NotFoundError } from '../core/errors';
import type { HttpApiEvent } from './events';
import type { HttpResponse } from './responses';

/** Handlers by API Gateway route key, e.g. `'GET /backups/{name}'`. */
export type Routes = Record<string, (event: HttpApiEvent) => Promise<HttpResponse>>;

/**
 * Picks the handler of an HTTP API event by its route key. A route no handler serves
 * is never taken for another one (a `DELETE /backups/{name}` wired to a function that
 * only lists would otherwise list): a known path with another method is 405 naming the
 * allowed methods, anything else 404.
 *
 * Route keys are `METHOD /path/{param}` as API Gateway and serverless offline give
 * them; without one (a `$default` route) the method and raw path are matched against
 * the templates.
 */
export function routeRequest(routes: Routes): (event: HttpApiEvent) => Promise<HttpResponse> {
  const templates = Object.keys(routes).map((key) => {
    const [method, path] = splitRouteKey(key);
    return { key, method, path, pattern: templatePattern(path) };
  });
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath ?? event.requestContext.http.path;
    const direct = event.routeKey ? routes[event.routeKey] : undefined;
    if (direct) return direct(event);
    const samePath = templates.filter((t) =>
      event.routeKey && event.routeKey !== '$default' ? t.path === splitRouteKey(event.routeKey)[1] : t.pattern.test(path),
    );
    const match = samePath.find((t) => t.method === method);
    if (match) return routes[match.key]!(event);
    if (samePath.length > 0) throw new MethodNotAllowedError(method, path, [...new Set(samePath.map((t) => t.method))]);
    throw new NotFoundError('route', `${method} ${path}`);
  };
}

function splitRouteKey(key: string): [string, string] {
  const space = key.indexOf(' ');
  return space < 0 ? ['', key] : [key.slice(0, space).toUpperCase(), key.slice(space + 1)];
}

/** `/backups/{name}/logs` → a pattern matching one path segment per parameter. */
function templatePattern(path: string): RegExp {
  const escaped = path
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}/?$`);
}
