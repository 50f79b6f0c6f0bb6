import middy from '@middy/core';
import { checkReadiness, readinessDeps } from '../lib/readiness/service';
import { parseReadinessInvocation, parseReadinessQuery } from '../lib/readiness/request';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { errorAnswer, httpErrorHandler } from '../lib/http/error-handler';
import { isHttpEvent } from '../lib/http/events';
import { routeRequest } from '../lib/http/router';
import { jsonResponse } from '../lib/http/responses';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

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
export const handler = middy(async (event: unknown, context: Parameters<typeof http>[1]) => {
  if (isHttpEvent(event)) return http(event, context);
  try {
    const request = parseReadinessInvocation(event);
    return await checkReadiness(deps, request.cluster, { namespaces: request.namespaces });
  } catch (error) {
    return errorAnswer(error, context?.awsRequestId ?? 'local').body;
  }
}).use(lambdaLogContext());
