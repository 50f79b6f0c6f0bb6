import type middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { powertoolsLogger } from '../core/logger';

/**
 * Middy middleware every function uses: each log line of an invocation carries its
 * request id, cold start and function name, and the keys a run appended
 * (`logger.appendKeys`) are dropped when it ends, so a warm container's next
 * invocation does not log under the previous backup's name.
 */
export function lambdaLogContext(): middy.MiddlewareObj {
  return injectLambdaContext(powertoolsLogger, { resetKeys: true });
}
