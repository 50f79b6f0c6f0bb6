import middy from '@middy/core';
import { createBackup, getBackup, listBackups, listFilterSchema } from '../lib/backup/service';
import { backupServiceDeps } from '../lib/backup/wiring';
import { lambdaStartRun } from '../lib/dispatch';
import { SkiffError, ValidationError } from '../lib/errors';
import { httpAuth, resolveApiCredentials, type ApiCredentials } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { isHttpEvent, jsonBody, type HttpApiEvent } from '../lib/http/events';
import { jsonResponse } from '../lib/http/responses';
import { fieldIssuesFromZod } from '../lib/velero/backup';
import { runtime } from '../lib/runtime';

const { config } = runtime();
const deps = backupServiceDeps(config);
const startRun = lambdaStartRun();
let credentials: Promise<ApiCredentials> | undefined;
const apiCredentials = () => (credentials ??= resolveApiCredentials(config.api));

/** POST /backups, GET /backups, GET /backups/{name}. */
const http = middy(async (event: HttpApiEvent) => {
  switch (event.routeKey) {
    case 'POST /backups': {
      const created = await createBackup(deps, jsonBody(event));
      await startRun(created.name);
      return jsonResponse(202, created);
    }
    case 'GET /backups/{name}':
      return jsonResponse(200, await getBackup(deps, event.pathParameters?.name ?? ''));
    default: {
      const filter = listFilterSchema.safeParse(event.queryStringParameters ?? {});
      if (!filter.success) throw new ValidationError('query', fieldIssuesFromZod(filter.error));
      const backups = await listBackups(deps, filter.data);
      return jsonResponse(200, { items: backups });
    }
  }
})
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/**
 * The HTTP API, or a direct invocation (`serverless invoke -f backups --data '{...}'`)
 * whose data is the same request body as POST /backups, validated the same way.
 * A direct invocation answers with the created backup or `{ error, message, issues }`.
 */
export const handler = async (event: unknown, context: Parameters<typeof http>[1]) => {
  if (isHttpEvent(event)) return http(event, context);
  try {
    const created = await createBackup(deps, event);
    await startRun(created.name);
    return created;
  } catch (error) {
    if (error instanceof SkiffError && error.status < 500) {
      return { error: error.name, message: error.message, ...(error instanceof ValidationError ? { issues: error.issues } : {}) };
    }
    throw error;
  }
};
