import middy from '@middy/core';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';
import { parseReadinessInvocation, parseReadinessQuery } from '../lib/readiness/request';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { routeRequest } from '../lib/http/router';
import { jsonResponse } from '../lib/http/responses';
import { runtime } from '../lib/runtime/config';
import { httpOrInvocation } from '../lib/runtime/http-or-invocation';

const { config } = runtime();
const deps = readinessDeps(config);
const apiCredentials = apiCredentialsSource(config.api);

/** GET /clusters/{name}/readiness[?namespaces=a,b]; anything else 404/405. */
const http = middy(
  routeRequest({
    'GET /clusters/{name}/readiness': async (event) =>
      jsonResponse(200, await checkReadiness(deps, event.pathParameters?.name ?? '', parseReadinessQuery(event.queryStringParameters))),
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/**
 * A cluster's readiness report over HTTP, or by direct invocation
 * (`serverless invoke -f readiness --data '{"cluster":"prod-eu"}'`), which answers the
 * report or `{ error, message, issues }`.
 */
export const handler = httpOrInvocation(http, async (event) => {
  const request = parseReadinessInvocation(event);
  return await checkReadiness(deps, request.cluster, { namespaces: request.namespaces });
});
