import middy from '@middy/core';
import { z } from 'zod';
import { ValidationError } from '../lib/core/errors';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { jsonBody } from '../lib/http/events';
import { jsonResponse } from '../lib/http/responses';
import { routeRequest } from '../lib/http/router';
import { storageLocationViews } from '../lib/config';
import { runtime } from '../lib/runtime/config';
import { lambdaInvoker, SYNC_FUNCTION_ENV } from '../lib/runtime/invoker';
import { httpOrInvocation } from '../lib/runtime/http-or-invocation';
import { getSyncReport, runSync, syncDeps, syncTargets } from '../lib/sync/service';

const { config } = runtime();
const deps = syncDeps(config);
const invokeSync = lambdaInvoker(SYNC_FUNCTION_ENV);
const apiCredentials = apiCredentialsSource(config.api);

const reportQuerySchema = z.strictObject({ location: z.string().min(1).optional() });

/**
 * POST /sync: a dry run answers with what it would do (200); a real run is started
 * as one asynchronous invocation per (location, cluster), as the scheduler starts them,
 * and answers 202 with the pairs. Without a sync function to invoke (a local run),
 * the run happens here and answers 200 with its result.
 */
async function startSync(body: unknown) {
  const { request, targets } = syncTargets(config, body);
  if (request.dryRun || !invokeSync) return jsonResponse(200, await runSync(deps, request));
  const started = targets.flatMap((t) => (t.clusters.length > 0 ? t.clusters.map((cluster) => ({ location: t.location, cluster })) : [{ location: t.location }]));
  await Promise.all(started.map((pair) => invokeSync(pair)));
  return jsonResponse(202, { started });
}

/** POST /sync, GET /sync/report and GET /storage-locations; anything else 404/405. */
const http = middy(
  routeRequest({
    'GET /storage-locations': async () => jsonResponse(200, { items: storageLocationViews(config.storageLocations) }),
    'POST /sync': async (event) => startSync(jsonBody(event)),
    'GET /sync/report': async (event) => {
      const query = reportQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new ValidationError('query', fieldIssuesFromZod(query.error));
      return jsonResponse(200, await getSyncReport(deps, query.data.location));
    },
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/**
 * The HTTP API, or a direct invocation (the scheduler's, or `serverless invoke -f sync
 * --data '{"location":"default","cluster":"beta"}'`) whose data is the POST /sync body:
 * it runs the sync here and answers with its result, or `{ error, message, issues }`.
 */
export const handler = httpOrInvocation(http, (event) => runSync(deps, event));
