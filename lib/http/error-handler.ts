import type middy from '@middy/core';
import { SkiffError, ValidationError } from '../core/errors';
import { logger } from '../core/logger';
import { jsonResponse, type HttpResponse } from './responses';

/** What a caller is told about a failed request: `{ error, message, issues? }` or a generic failure. */
export interface ErrorAnswer {
  status: number;
  body: { error: string; message: string; issues?: ValidationError['issues']; requestId?: string };
}

/**
 * The one place that decides what a caller learns about an error, for HTTP answers and
 * direct invocations alike. Callers' mistakes (4xx) get the error's message and, for
 * validation, every field issue; anything else becomes a generic failure with a request
 * id to find the details in the logs, never a stack trace or a remote system's words.
 */
export function errorAnswer(error: unknown, requestId: string): ErrorAnswer {
  if (error instanceof SkiffError && error.status < 500) {
    logger.info('request refused', { status: error.status, error: error.name, reason: error.message });
    return {
      status: error.status,
      body: {
        error: error.name,
        message: error.message,
        ...(error instanceof ValidationError ? { issues: error.issues } : {}),
      },
    };
  }
  logger.error('request failed', { requestId, error });
  return {
    status: error instanceof SkiffError ? error.status : 500,
    body: {
      error: 'InternalError',
      message: `the request failed on the server; look for request id ${requestId} in the logs`,
      requestId,
    },
  };
}

/** Middy middleware answering every error of an HTTP handler through `errorAnswer`. */
export function httpErrorHandler(): middy.MiddlewareObj<unknown, HttpResponse> {
  return {
    onError: function mapErrorToResponse(request) {
      const answer = errorAnswer(request.error, request.context?.awsRequestId ?? 'local');
      request.response = jsonResponse(answer.status, answer.body);
    },
  };
}
