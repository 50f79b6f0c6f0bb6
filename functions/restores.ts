import middy from '@middy/core';
import { createRestore, getRestore, getRestoreLog, listRestores, restoreListFilterSchema, restoreServiceDeps } from '../lib/restore/service';
import { lambdaStartRestoreRun } from '../lib/runtime/invoker';
import { ValidationError } from '../lib/core/errors';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { jsonBody } from '../lib/http/events';
import { routeRequest } from '../lib/http/router';
import { jsonResponse, textResponse } from '../lib/http/responses';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import { logger } from '../lib/core/logger';
import { runtime } from '../lib/runtime/config';
import { httpOrInvocation } from '../lib/runtime/http-or-invocation';

const { config } = runtime();
const deps = restoreServiceDeps(config);
const startRun = lambdaStartRestoreRun();
const apiCredentials = apiCredentialsSource(config.api);

/** Records a restore and starts its run; a run that cannot be started now is logged, the restore stays New. */
async function createAndStart(request: unknown) {
  const created = await createRestore(deps, request);
  try {
    await startRun(created.name);
  } catch (error) {
    logger.error('restore recorded, but its run could not be started', { restore: created.name, error });
  }
  return created;
}

/** POST /restores, GET /restores, GET /restores/{name}, GET /restores/{name}/logs; anything else 404/405. */
const http = middy(
  routeRequest({
    'POST /restores': async (event) => jsonResponse(202, await createAndStart(jsonBody(event))),
    'GET /restores': async (event) => {
      const filter = restoreListFilterSchema.safeParse(event.queryStringParameters ?? {});
      if (!filter.success) throw new ValidationError('query', fieldIssuesFromZod(filter.error));
      return jsonResponse(200, await listRestores(deps, filter.data));
    },
    'GET /restores/{name}': async (event) => jsonResponse(200, await getRestore(deps, event.pathParameters?.name ?? '')),
    'GET /restores/{name}/logs': async (event) => textResponse(200, await getRestoreLog(deps, event.pathParameters?.name ?? '')),
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/**
 * The HTTP API, or a direct invocation (`serverless invoke -f restores --data '{...}'`)
 * whose data is the same request body as POST /restores, validated the same way.
 */
export const handler = httpOrInvocation(http, createAndStart);
