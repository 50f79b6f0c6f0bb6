import middy from '@middy/core';
import { backupDownload, createBackup, describeBackup, describeQuerySchema, getBackupLog, listBackups, listFilterSchema } from '../lib/backup/service';
import { backupServiceDeps } from '../lib/backup/service';
import { getSchedule, listSchedules } from '../lib/backup/schedules';
import { lambdaStartRun } from '../lib/runtime/invoker';
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
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
const apiCredentials = apiCredentialsSource(config.api);
/** How long a download URL works: long enough to start a large download, short enough not to matter if it leaks. */
const DOWNLOAD_URL_SECONDS = 600;

/**
 * Records a backup and starts its run. The answer does not depend on the start: once
 * recorded, a backup whose run could not be started now is started by the scheduler's
 * reconcile within a minute, and a caller told "failed" would retry into a 409.
 */
async function createAndStart(request: unknown) {
  const created = await createBackup(deps, request);
  try {
    await startRun(created.name);
  } catch (error) {
    logger.error('backup recorded, but its run could not be started; the scheduler will start it', { backup: created.name, error });
  }
  return created;
}

/**
 * POST /backups, GET /backups, GET /backups/{name} (`?details=true` adds the resource
 * list), GET /backups/{name}/logs, GET /backups/{name}/download (a presigned URL of the
 * tarball, valid 10 minutes, like Velero's DownloadRequest), and the schedules that make
 * backups (GET /schedules, GET /schedules/{name}); anything else 404/405.
 */
const http = middy(
  routeRequest({
    'POST /backups': async (event) => jsonResponse(202, await createAndStart(jsonBody(event))),
    'GET /backups': async (event) => {
      const filter = listFilterSchema.safeParse(event.queryStringParameters ?? {});
      if (!filter.success) throw new ValidationError('query', fieldIssuesFromZod(filter.error));
      return jsonResponse(200, await listBackups(deps, filter.data));
    },
    'GET /backups/{name}': async (event) => {
      const query = describeQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new ValidationError('query', fieldIssuesFromZod(query.error));
      return jsonResponse(200, await describeBackup(deps, event.pathParameters?.name ?? '', { details: query.data.details === 'true' }));
    },
    'GET /backups/{name}/logs': async (event) => textResponse(200, await getBackupLog(deps, event.pathParameters?.name ?? '')),
    'GET /schedules': async (event) => jsonResponse(200, await listSchedules(deps, event.queryStringParameters ?? {})),
    'GET /schedules/{name}': async (event) => jsonResponse(200, await getSchedule(deps, event.pathParameters?.name ?? '')),
    'GET /backups/{name}/download': async (event) => {
      const { url, phase } = await backupDownload(deps, event.pathParameters?.name ?? '', DOWNLOAD_URL_SECONDS);
      return jsonResponse(200, { url, phase, expiresInSeconds: DOWNLOAD_URL_SECONDS });
    },
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/**
 * The HTTP API, or a direct invocation (`serverless invoke -f backups --data '{...}'`)
 * whose data is the same request body as POST /backups, validated the same way.
 * A direct invocation answers with the created backup or `{ error, message, issues }`,
 * and a server-side failure with the same generic answer HTTP callers get.
 */
export const handler = httpOrInvocation(http, createAndStart);
