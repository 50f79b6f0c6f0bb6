/**
 * One error hierarchy for all of Skiff. Every error says what was wrong and how to
 * fix it; `status` is the HTTP status an API caller should see. Only errors whose
 * status is below 500 expose their message to callers; anything else is reported
 * as a generic failure (see lib/http/errors.ts).
 *
 * Messages must never contain secret values (tokens, keys, kubeconfigs, Secret data).
 */
export abstract class SkiffError extends Error {
  abstract readonly status: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with one field of some input. `path` is dotted, e.g. `clusters.0.server`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Input that does not match its schema. Lists every wrong field, not just the first. */
export class ValidationError extends SkiffError {
  readonly status = 400;

  constructor(
    readonly source: string,
    readonly issues: FieldIssue[],
  ) {
    super(`${source} is invalid:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/** The configuration file (or its env overrides) is unusable; raised at cold start. */
export class ConfigError extends SkiffError {
  readonly status = 500;

  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AuthenticationError extends SkiffError {
  readonly status = 401;
}

/** Credentials were recognised but do not allow this call (a webhook signature on anything but a create). */
export class ForbiddenError extends SkiffError {
  readonly status = 403;
}

export class NotFoundError extends SkiffError {
  readonly status = 404;

  constructor(
    readonly kind: string,
    readonly id: string,
    hint?: string,
  ) {
    super(`${kind} "${id}" not found${hint ? `; ${hint}` : ''}`);
  }
}

export class ConflictError extends SkiffError {
  readonly status = 409;
}

/** A remote system (Kubernetes API server, object store) refused or could not be reached. */
export class RemoteError extends SkiffError {
  readonly status = 502;

  constructor(
    readonly system: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${system}: ${message}`, options);
  }
}

/** A known path asked with a method it does not serve; `allowed` lists the methods it does. */
export class MethodNotAllowedError extends SkiffError {
  readonly status = 405;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly allowed: readonly string[],
  ) {
    super(`${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`);
  }
}
