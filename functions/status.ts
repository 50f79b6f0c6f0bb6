import middy from '@middy/core';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { jsonResponse } from '../lib/http/responses';
import { routeRequest } from '../lib/http/router';
import { runtime } from '../lib/runtime/config';
import { httpOrInvocation } from '../lib/runtime/http-or-invocation';
import { liveStatusChecks, statusReport } from '../lib/runtime/status';

const { config, version } = runtime();
const checks = liveStatusChecks();
const apiCredentials = apiCredentialsSource(config.api);

/**
 * GET /status: configuration and a live check of every cluster and storage location;
 * GET /version: the server's version alone, checking nothing (what `skiff version`
 * asks, as `velero version` asks its server); anything else 404/405.
 */
const http = middy(
  routeRequest({
    'GET /status': async () => jsonResponse(200, await statusReport(config, version, checks)),
    'GET /version': async () => jsonResponse(200, { version }),
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/** The same report by direct invocation (`serverless invoke -f status`). */
export const handler = httpOrInvocation(http, async () => statusReport(config, version, checks));
