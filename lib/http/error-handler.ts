import type middy from '@middy/core';
import { SkiffError, ValidationError } from '../errors';
import { logger } from '../logger';
import { jsonResponse, type HttpResponse } from './responses';

/**
 * The one place that turns errors into HTTP answers. Callers' mistakes (4xx) get the
 * error's message and, for validation, every field issue; anything else becomes a
 * generic 500 with a request id to find the details in the logs, never a stack trace.
 */
export function httpErrorHandler(): middy.MiddlewareObj<unknown, HttpResponse> {
  return {
    onError: function mapErrorToResponse(request) {
      const error = request.error;
      const requestId = request.context?.awsRequestId ?? 'local';
      if (error instanceof SkiffError && error.status < 500) {
        logger.info('request refused', { status: error.status, error: error.name, message: error.message });
        request.response = jsonResponse(error.status, {
          error: error.name,
          message: error.message,
          ...(error instanceof ValidationError ? { issues: error.issues } : {}),
        });
        return;
      }
      logger.error('request failed', { requestId, error });
      const status = error instanceof SkiffError ? error.status : 500;
      request.response = jsonResponse(status, {
        error: 'InternalError',
        message: `the request failed on the server; look for request id ${requestId} in the logs`,
        requestId,
      });
    },
  };
}
