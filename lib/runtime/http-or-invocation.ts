import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { errorAnswer } from '../http/error-handler';
import { isHttpEvent, type HttpApiEvent } from '../http/events';
import { lambdaLogContext } from './log-context';

/**
 * A function's handler for both ways it is reached: an HTTP API event goes to `http`
 * (routes, authentication, error answers); anything else is a direct invocation
 * (`serverless invoke -f <fn> --data ...`, or another function's asynchronous start),
 * answered by `invoke` with its result or, on failure, the same `{ error, message,
 * issues }` an HTTP caller gets (a generic one with a request id for server faults).
 */
export function httpOrInvocation(
  http: (event: HttpApiEvent, context: Context) => Promise<unknown>,
  invoke: (event: unknown, context?: Context) => Promise<unknown>,
) {
  return middy(async (event: unknown, context: Context) => {
    if (isHttpEvent(event)) return http(event, context);
    try {
      return await invoke(event, context);
    } catch (error) {
      return errorAnswer(error, context?.awsRequestId ?? 'local').body;
    }
  }).use(lambdaLogContext());
}
