import { ConflictError, RemoteError, SkiffError } from '../core/errors';

/**
 * Turns what the S3 SDK throws into Skiff errors that say which location and key failed
 * and what to check. Only the error's name, HTTP status and the server's message are
 * kept: SDK exceptions also carry fields such as `AWSAccessKeyId`, `StringToSign` and
 * the raw response, which have no place in logs or API answers.
 */

/** The storage location an operation ran against, as errors describe it. */
export interface StoreTarget {
  location: string;
  bucket: string;
  region: string;
  /** Unset for AWS S3. */
  endpoint?: string;
}

/** The S3 operations Skiff calls, named as in the API reference. */
export type S3Operation =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'ListObjectsV2'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts';

/** The IAM permission each operation needs, for hints about AccessDenied. */
const PERMISSION: Record<S3Operation, string> = {
  PutObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  ListObjectsV2: 's3:ListBucket',
  DeleteObject: 's3:DeleteObject',
  DeleteObjects: 's3:DeleteObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
};

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
]);
const REGION_CODES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);

/** Name and HTTP status of whatever the SDK threw (status undefined when no answer came). */
export function s3ErrorCode(error: unknown): { code: string; status: number | undefined } {
  const e = error as { name?: unknown; code?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } };
  const code =
    (typeof e?.code === 'string' && NETWORK_CODES.has(e.code) ? e.code : undefined) ??
    (typeof e?.Code === 'string' ? e.Code : undefined) ??
    (typeof e?.name === 'string' ? e.name : 'UnknownError');
  return { code, status: e?.$metadata?.httpStatusCode };
}

/** True when the key (or bucket) does not exist: GetObject says NoSuchKey, HeadObject only 404. */
export function isNotFound(error: unknown): boolean {
  const { code, status } = s3ErrorCode(error);
  return code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload');
}

/** True when a conditional request (If-Match / If-None-Match) lost. */
export function isPreconditionFailed(error: unknown): boolean {
  const { code, status } = s3ErrorCode(error);
  // 409 ConditionalRequestConflict: AWS's answer when a concurrent conditional write is in flight.
  return status === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict';
}

/** True when a multipart upload id is unknown: aborted, completed, or expired by a lifecycle rule. */
export function isNoSuchUpload(error: unknown): boolean {
  return s3ErrorCode(error).code === 'NoSuchUpload';
}

function where(target: StoreTarget): string {
  return target.endpoint ? `endpoint ${target.endpoint}` : `AWS S3 region ${target.region}`;
}

function hint(target: StoreTarget, operation: S3Operation, code: string, status: number | undefined): string {
  if (CREDENTIAL_CODES.has(code)) {
    return `the object store refused the credentials of location "${target.location}"; check the secrets its credentials name, or the default AWS credential chain when it names none`;
  }
  if (code === 'AccessDenied' || status === 403) {
    const missingKey =
      operation === 'GetObject' || operation === 'HeadObject'
        ? ' (without s3:ListBucket, AWS also answers 403 for a key that does not exist)'
        : '';
    return `the location's credentials lack ${PERMISSION[operation]} on bucket "${target.bucket}"${missingKey}, or a bucket policy or Object Lock forbids it; check the IAM and bucket policies`;
  }
  if (code === 'NoSuchBucket') {
    return `bucket "${target.bucket}" does not exist at ${where(target)}; create it, or fix the location's bucket, endpoint or region`;
  }
  if (REGION_CODES.has(code) || status === 301) {
    return `bucket "${target.bucket}" is not in region "${target.region}"; set the location's region to the bucket's`;
  }
  if (NETWORK_CODES.has(code) || code === 'TimeoutError' || status === undefined) {
    return `cannot reach ${where(target)}; check the location's endpoint and that the network allows the connection (VPC, NAT, firewall)`;
  }
  if (code === 'SlowDown' || (status !== undefined && status >= 500)) {
    return 'the object store is failing or throttling; retry later';
  }
  return `check the location's bucket, region, endpoint and credentials`;
}

/**
 * Wraps an SDK failure of `operation` on `key` (or on the bucket) into a RemoteError naming
 * the location and what to check. Skiff errors pass through unchanged: they come from
 * Skiff's own code (a secret that cannot be resolved, a refused input) and already say
 * what to fix.
 */
export function storeError(target: StoreTarget, operation: S3Operation, key: string | undefined, error: unknown): SkiffError {
  if (error instanceof SkiffError) return error;
  const { code, status } = s3ErrorCode(error);
  const object = key === undefined ? `bucket "${target.bucket}"` : `"${key}" in bucket "${target.bucket}"`;
  const serverMessage = error instanceof Error && error.message && error.message !== code ? `: ${error.message}` : '';
  return new RemoteError(
    `object store location "${target.location}"`,
    `${operation} of ${object} failed with ${code}${status === undefined ? '' : ` (HTTP ${status})`}${serverMessage}; ${hint(target, operation, code, status)}`,
  );
}

/**
 * An answer that lacks what S3 always returns (an upload id, an ETag, a continuation
 * token): the endpoint is not the S3-compatible store it should be, or a proxy altered it.
 */
export function unexpectedAnswer(target: StoreTarget, operation: S3Operation, key: string, missing: string): RemoteError {
  return new RemoteError(
    `object store location "${target.location}"`,
    `${operation} of "${key}" in bucket "${target.bucket}" answered without ${missing}; check that ${where(target)} is an S3-compatible store and that no proxy alters its answers`,
  );
}

/**
 * The error for a location configured ReadOnly: Skiff never writes to or deletes from it,
 * as Velero does not (a location shared with another cluster's backups, or kept for restores).
 */
export function readOnlyError(target: StoreTarget, what: string): ConflictError {
  return new ConflictError(
    `storage location "${target.location}" is ReadOnly, so Skiff will not ${what}; set its accessMode to ReadWrite to allow writes, or choose another location`,
  );
}
