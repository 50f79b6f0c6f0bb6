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
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly continueToken?: string,
  ) {
    super(`cluster "${cluster}": ${message} (HTTP ${code}${reason ? `, ${reason}` : ''})`);
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
