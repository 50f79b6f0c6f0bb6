import { ValidationError } from '../core/errors';

/** The parts of an API Gateway HTTP API (payload 2.0) event that Skiff reads. */
export interface HttpApiEvent {
  routeKey?: string;
  rawPath?: string;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  pathParameters?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string; path: string } };
}

/** Whether an event came through the HTTP API (as opposed to a direct invocation). */
export function isHttpEvent(event: unknown): event is HttpApiEvent {
  return typeof event === 'object' && event !== null && 'requestContext' in event &&
    typeof (event as { requestContext?: { http?: unknown } }).requestContext?.http === 'object';
}

/** The JSON body of a request; a body that is not JSON is the caller's mistake (400). */
export function jsonBody(event: HttpApiEvent): unknown {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError('request body', [{ path: '(body)', message: `is not JSON: ${(error as Error).message}` }]);
  }
}
