import middy from '@middy/core';
import { z } from 'zod';
import { expiryServiceDeps, requestDeletion, runExpiry } from '../lib/expiry/service';
import { lambdaInvoker } from '../lib/runtime/invoker';
import { ConfigError, NotFoundError, ValidationError } from '../lib/core/errors';
import { jsonBody } from '../lib/http/events';
import { fieldIssuesFromZod } from '../lib/core/zod-issues';
import { logger } from '../lib/core/logger';
import { apiCredentialsSource, httpAuth } from '../lib/http/auth';
import { httpErrorHandler } from '../lib/http/error-handler';
import { routeRequest } from '../lib/http/router';
import { jsonResponse } from '../lib/http/responses';
import { runtime } from '../lib/runtime/config';
import { httpOrInvocation } from '../lib/runtime/http-or-invocation';

const { config } = runtime();
const deps = expiryServiceDeps(config);
const startExpiry = lambdaInvoker('SKIFF_EXPIRY_FUNCTION');
const apiCredentials = apiCredentialsSource(config.api);

const dryRunQuery = z.strictObject({ dryRun: z.enum(['true', 'false']).optional() });

/**
 * An expiry run: `{ "location": "default" }` (the scheduler's, every gcFrequency),
 * `{ "location": "default", "backup": "b1" }` (delete that one now), either with
 * `"dryRun": true` to get the plan and change nothing.
 */
const runRequest = z.strictObject({
  location: z.string({ error: 'required: the name of a configured storage location' }).min(1),
  backup: z.string().min(1).optional(),
  dryRun: z.boolean().optional(),
});

/** POST /gc: `{ "location"?: "default", "dryRun"?: true }` — no location means every configured one. */
const gcRequest = z.strictObject({
  location: z.string().min(1).optional(),
  dryRun: z.boolean({ error: 'must be true or false' }).optional(),
});

/**
 * DELETE /backups/{name}: marks the backup as being deleted (202, phase Deleting) and
 * starts a run of its location that does the rest. A backup being deleted already
 * answers its state (202); `?dryRun=true` answers the plan (200) and changes nothing.
 */
const http = middy(
  routeRequest({
    'DELETE /backups/{name}': async (event) => {
      const query = dryRunQuery.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new ValidationError('query', fieldIssuesFromZod(query.error));
      const name = event.pathParameters?.name ?? '';
      const dryRun = query.data.dryRun === 'true';
      const answer = await requestDeletion(deps, name, { dryRun });
      if (dryRun || !('phase' in answer)) return jsonResponse(200, answer);
      await start(answer.storageLocation, name);
      return jsonResponse(202, answer);
    },
    /**
     * POST /gc (`skiff gc` of a client): with dryRun the plan of each location (200),
     * computed here; else an expiry run of each location started asynchronously (202),
     * each of which may take its 15 minutes.
     */
    'POST /gc': async (event) => {
      const request = gcRequest.safeParse(jsonBody(event));
      if (!request.success) throw new ValidationError('gc request', fieldIssuesFromZod(request.error));
      const locations = gcLocations(request.data.location);
      if (request.data.dryRun) {
        const plans = [];
        for (const location of locations) plans.push((await runExpiry(deps, { location, dryRun: true })).plan);
        return jsonResponse(200, { plans });
      }
      for (const location of locations) await startRun(location);
      return jsonResponse(202, { started: locations });
    },
  }),
)
  .use(httpErrorHandler())
  .use(httpAuth(apiCredentials));

/** The locations a gc request names: the one given (404 when not configured), else every one. */
function gcLocations(location: string | undefined): string[] {
  const configured = config.storageLocations.map((l) => l.name);
  if (location === undefined) return configured;
  if (!configured.includes(location)) throw new NotFoundError('storage location', location, `configured: ${configured.join(', ') || '(none)'}`);
  return [location];
}

/** Starts an expiry run of `location`; 500 (ConfigError) when no expiry function is configured to run it. */
async function startRun(location: string): Promise<void> {
  if (!startExpiry) throw new ConfigError('no expiry function is configured (SKIFF_EXPIRY_FUNCTION) to run expiry; the scheduler runs it every gcFrequency');
  await startExpiry({ location });
}

/** Starts the run that deletes `backup`; without it the next scheduled run of the location does. */
async function start(location: string, backup: string): Promise<void> {
  if (!startExpiry) {
    logger.warn('no expiry function configured (SKIFF_EXPIRY_FUNCTION); the next scheduled run deletes the backup', { backup });
    return;
  }
  try {
    await startExpiry({ location, backup });
  } catch (error) {
    logger.error('deletion recorded, but its run could not be started; the next scheduled run continues it', { backup, error });
  }
}

/**
 * The HTTP route above, or a run by invocation (asynchronous from the scheduler and from
 * DELETE, or `serverless invoke -f expiry --data '{"location":"default","dryRun":true}'`),
 * which answers the plan, the action log and what was deleted, or `{ error, message, issues }`.
 */
export const handler = httpOrInvocation(http, async (event, context) => {
  const parsed = runRequest.safeParse(event ?? {});
  if (!parsed.success) throw new ValidationError('expiry request', fieldIssuesFromZod(parsed.error));
  // Waits end a minute before the function's timeout, so the run records what it waits on.
  const deadline = context?.getRemainingTimeInMillis ? { remainingMs: () => context.getRemainingTimeInMillis(), stopMarginMs: 60_000 } : undefined;
  return await runExpiry({ ...deps, ...(deadline ? { deadline } : {}) }, parsed.data);
});
