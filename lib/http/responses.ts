/** The response shape of API Gateway HTTP APIs (payload format 2.0). */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** A plain-text answer, such as a backup's log, which callers read or pipe as it is. */
export function textResponse(statusCode: number, body: string): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body,
  };
}
