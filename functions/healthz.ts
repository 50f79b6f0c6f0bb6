import middy from '@middy/core';
import { healthReport } from '../lib/runtime/health';
import { httpErrorHandler } from '../lib/http/error-handler';
import { jsonResponse } from '../lib/http/responses';
import { runtime } from '../lib/runtime/config';
import { lambdaLogContext } from '../lib/runtime/log-context';

const { config, version } = runtime();

/** GET /healthz: version, configured clusters and storage locations, warnings. */
export const handler = middy(async () => jsonResponse(200, healthReport(config, version)))
  .use(lambdaLogContext())
  .use(httpErrorHandler());
