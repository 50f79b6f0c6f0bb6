import middy from '@middy/core';
import { configurationHealth } from '../lib/runtime/health';
import { jsonResponse } from '../lib/http/responses';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

/**
 * GET /healthz, anonymous: "ok" (200) or "not ok" (503) when the configuration cannot be
 * used. The configuration is loaded here, not at import, so a broken one is an answer
 * instead of a function that fails to start. The details are at GET /status.
 */
export const handler = middy(async () => {
  const health = await configurationHealth(runtime);
  return jsonResponse(health.httpStatus, health.body);
}).use(lambdaLogContext());
