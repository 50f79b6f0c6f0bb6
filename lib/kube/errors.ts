import { SkiffError } from '../core/errors';

/**
 * An API server answered with an error status. Carries the HTTP code and the
 * Kubernetes Status reason (`NotFound`, `AlreadyExists`, `Expired`, ...) so
 * callers can decide without parsing messages.
 */
export class KubeApiError extends SkiffError {
  readonly status = 502;

  constructor(
    readonly cluster: string,
    /** The HTTP status; 0 when no answer arrived (see KubeAmbiguousWriteError). */
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly continueToken?: string,
    options?: { cause?: unknown },
  ) {
    super(`cluster "${cluster}": ${message}${code ? ` (HTTP ${code}${reason ? `, ${reason}` : ''})` : ''}`, options);
  }
}

/**
 * A write that is not safe to send twice (a POST, a JSON patch) failed in a way that
 * does not say whether the server applied it: a 5xx (from a proxy, or from the API
 * server's own timeout while the handler went on), no answer in time, or a connection
 * that broke after the request was sent. The object may exist. The client does not
 * send such a write again (see retry.ts); a caller that must create exactly once looks
 * for the object first (createOnce in create-once.ts).
 *
 * `code` is the HTTP status when the server answered, else 0, and `cause` the
 * connection's error.
 */
export class KubeAmbiguousWriteError extends KubeApiError {
  constructor(cluster: string, code: number, reason: string, message: string, options?: { cause?: unknown }) {
    super(cluster, code, reason, message, undefined, options);
  }
}

/** The API server could not be reached at all (DNS, TCP, TLS). */
export class KubeUnreachableError extends SkiffError {
  readonly status = 502;

  constructor(
    readonly cluster: string,
    readonly server: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cluster "${cluster}": cannot reach API server ${server}: ${detail}`, options);
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 409;
}

export function isAlreadyExists(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 409 && error.reason === 'AlreadyExists';
}
